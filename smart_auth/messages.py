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


def invite_email(practice_name, url, by_patient=False):
    """(subject, text, html) of the invitation: the 'Access your records' link, and how to verify (with the
    practice's code or phone, or, when a patient invited a caregiver, the code the patient reads to them)."""
    lines = [
        f"{practice_name} invited you to see health records in the patient portal.",
        "Use the button below to create your portal account, or log in if you already have one.",
    ]
    how = (
        "To finish, you will need the code the person who invited you reads to you. "
        if by_patient
        else "To finish, you will need the access code (PIN) the practice gave you, or the phone number "
        "the practice has on file. "
    )
    after = [
        how + "For your security the access code is never sent by email.",
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


def representative_linked_email(practice_name, who, relation, url):
    """(subject, text, html) telling an adult patient someone was linked to their record, and how to remove them."""
    lines = [
        f"{who} was linked to your record as your {relation}.",
        "They can now see your record in the patient portal, and connect apps to it.",
    ]
    after = ["If you do not know them, remove them on the Representatives page; you need not call the practice."]
    text = "\n\n".join([*lines, f"If you do not know them, remove them: {url}"])
    return (
        f"Someone can now see your {practice_name} record",
        text,
        _html(lines, url, "See who can see your record", after),
    )


def visit_summary_email(practice_name, url):
    """(subject, text, html) telling the patient the practice put an after-visit summary in their portal: a link
    to the portal's page only (the SMART Health Link, which carries its key, is shown after logging in)."""
    lines = [
        f"{practice_name} shared the summary of your visit with you in the patient portal.",
        "Log in to see it, show its QR code or share it with another doctor.",
    ]
    return (
        f"Your after-visit summary from {practice_name} is in your portal",
        "\n\n".join([*lines, f"See it in the portal: {url}"]),
        _html(lines, url, "See your after-visit summary"),
    )


def access_ending_emails(patient_name, representative_name, relation, ends_on):
    """((subject, text, html) for the representative, the same for the patient): access ends at 18."""
    day = f"{ends_on.day} {ends_on:%B %Y}"
    to_representative = [
        f"On {day} {patient_name} turns 18, and your access to their record in the patient portal ends.",
        "Their apps you connected stop reading it then too. They can invite you again as their caregiver.",
    ]
    to_patient = [
        f"On your 18th birthday, {day}, {representative_name} (your {relation}) can no longer see your record "
        "in the patient portal.",
        "If you want them to keep seeing it, invite them as your caregiver from the Representatives page.",
    ]
    return (
        (
            f"Your access to {patient_name}'s record ends on {day}",
            "\n\n".join(to_representative),
            _text_html(to_representative),
        ),
        (f"Your {relation}'s access to your record ends on {day}", "\n\n".join(to_patient), _text_html(to_patient)),
    )


def _text_html(paragraphs):
    """An email's HTML part when it has no button: its paragraphs only."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return f'<!doctype html><html><body style="font-family:sans-serif;color:#1b1f24">{body}</body></html>'
