"""The words of every email and text message the portal sends (never a PIN, never chart data)."""

from html import escape

_BUTTON = (
    '<p><a href="{url}" style="display:inline-block;padding:12px 20px;background:#c2410c;color:#ffffff;'
    'border-radius:4px;text-decoration:none;font-weight:bold">{label}</a></p>'
)


# A phone's mail app (or the demo outbox at 320 px) lays it out at its own width; a long word or URL wraps.
_SHELL = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
    '<body style="font-family:sans-serif;color:#1b1f24;max-width:36rem;margin:0 auto;padding:8px;'
    'line-height:1.45;overflow-wrap:anywhere">{body}</body></html>'
)


def _html(paragraphs, url, label, after=(), link=None):
    """The HTML part: paragraphs, the button the text part names, more paragraphs, and an optional
    ``(lead, words, url)`` line whose link shows its words rather than its URL."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    body += _BUTTON.format(url=escape(url, quote=True), label=escape(label))
    body += "".join(f"<p>{escape(p)}</p>" for p in after)
    if link:
        lead, words, target = link
        body += f'<p>{escape(lead)} <a href="{escape(target, quote=True)}">{escape(words)}</a></p>'
    return _SHELL.format(body=body)


def invite_email(practice_name, url):
    """(subject, text, html) of the invitation: the 'Access your records' link, and how to verify."""
    lines = [
        f"{practice_name} invited you to see health records in the patient portal.",
        "Use the button below to create your portal account, or log in if you already have one.",
    ]
    after = [
        "To finish, you will need the access code (PIN) the practice gave you, or the phone number "
        "the practice has on file. For your security the access code is never sent by email.",
        "If you were not expecting this, you can ignore this message.",
    ]
    text = "\n\n".join([*lines, f"Access your records: {url}", *after])
    return (
        f"Your invitation to the {practice_name} patient portal",
        text,
        _html(lines, url, "Access your records", after),
    )


def finalize_email(practice_name, url):
    """(subject, text, html) to a patient already linked whose record the practice changed: confirm it to go on."""
    lines = [
        f"{practice_name} changed details in your record. To keep seeing it in the patient portal, confirm them: "
        "log in and enter your date of birth and the new access code the practice gave you.",
    ]
    after = [
        "For your security the access code is never sent by email.",
        "If you were not expecting this, call the practice.",
    ]
    text = "\n\n".join([*lines, f"Confirm your record: {url}", *after])
    return f"Your record at {practice_name} was updated", text, _html(lines, url, "Confirm your record", after)


def finalize_sms(practice_name, url):
    return f"{practice_name} changed your record. Log in to confirm it with your new access code: {url}"


def invite_sms(practice_name, url):
    return f"{practice_name} invited you to the patient portal. Access your records: {url}"


def confirm_email(url):
    lines = ["Thanks for creating your patient portal account.", "Please confirm that this is your email address."]
    after = ["If you did not create an account, you can ignore this message."]
    text = "\n\n".join([*lines, f"Confirm my account: {url}", *after])
    return "Confirm your patient portal account", text, _html(lines, url, "Confirm my account", after)


def confirm_new_email(url):
    lines = [
        "You asked to use this address for your patient portal account.",
        "Please confirm it; until you do, your account keeps its old address.",
    ]
    text = "\n\n".join([*lines, f"Confirm my email: {url}"])
    return "Confirm your new email address", text, _html(lines, url, "Confirm my email")


def already_registered(login_url, forgot_url):
    """Sent when someone signs up with an email that has an account: the page itself says nothing more."""
    lines = [
        "Someone (probably you) tried to create a patient portal account with this email address, "
        "but it already has an account.",
        "Log in instead, or reset your password if you forgot it.",
    ]
    text = "\n\n".join([*lines, f"Log in: {login_url}", f"Reset your password: {forgot_url}"])
    return (
        "You already have a patient portal account",
        text,
        _html(lines, login_url, "Log in", link=("Forgot your password?", "Reset your password", forgot_url)),
    )


def reset_email(url, minutes):
    lines = [
        "Someone asked to reset the password of your patient portal account.",
        f"The link works once, for {minutes} minutes. If it was not you, ignore this message.",
        "Setting a new password logs out every device where your account is logged in.",
    ]
    text = "\n\n".join([*lines, f"Reset my password: {url}"])
    return "Reset your patient portal password", text, _html(lines, url, "Reset my password")


def sms_code(code, minutes):
    return f"Your patient portal security code is {code}. It expires in {minutes} minutes. Never share it."
