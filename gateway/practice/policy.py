"""The practice console's Proxy access policy page: the ages and the sensitive categories of the practice's proxy
policy (smart_auth.proxy_policy), shown to and changed by the practice's administrators only, through a
confirmation page that says what changes today for whom; each change goes into the console's history."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store
from gateway.web.auth import current_staff, staff_required
from smart_auth import audit, proxy_policy

bp = Blueprint("practice_policy", __name__, url_prefix="/practice")
EVENT = "proxy policy changed"
MAX_AGE = 21  # the latest age of majority in the United States (Mississippi)


def _practice(practice_uid):
    """The practices row, when it is the logged-in staff user's and they administer it: else 404 (another
    practice's, as for an unknown one) or 403 (staff who are not administrators)."""
    staff = current_staff()
    found = store.chart_rows(store.current(), "practices", uid=practice_uid)
    if not found or found[0]["id"] != staff["practice_id"]:
        abort(404)
    if not staff["is_admin"]:
        abort(403, description="Only the practice's administrators may see and change its proxy access policy.")
    return found[0]


def _current(practice):
    return proxy_policy.policy_of(account_store.proxy_policy(store.current(), practice["id"]))


def _proposed(form):
    """(Policy or None, errors) from the submitted form."""
    errors, ages = [], {}
    for field, words in (("limited_from", "The limited record's first age"), ("ends_at", "The age access ends")):
        value = form.get(field, "").strip()
        if not value.isdigit() or not 0 <= int(value) <= MAX_AGE:
            errors.append(f"{words} must be a whole number from 0 to {MAX_AGE}.")
        else:
            ages[field] = int(value)
    withheld = form.getlist("withheld")
    unknown = [name for name in withheld if name not in proxy_policy.CATEGORIES]
    if unknown:
        errors.append("Choose categories from the list.")
    if len(ages) == 2 and ages["limited_from"] > ages["ends_at"]:
        errors.append("The limited record must begin before access ends.")
    if errors:
        return None, errors
    ordered = tuple(name for name in proxy_policy.CATEGORIES if name in withheld)
    return proxy_policy.Policy(ages["limited_from"], ages["ends_at"], ordered), []


def summary(policy):
    """The policy in one sentence, as the page and the history say it."""
    left_out = ", ".join(proxy_policy.category_words(n) for n in policy.withheld) or "no category"
    return (
        f"Under {policy.limited_from}: the whole record. From {policy.limited_from} to {policy.ends_at - 1}: the"
        f" limited record, without {left_out} (and notes marked confidential). At {policy.ends_at}: access given"
        " in childhood ends."
    )


def _page(practice, policy, errors=(), status=200):
    history = enrollment_store.events_of_practice(store.current(), practice["id"], EVENT)
    return render_template(
        "practice/policy.html",
        practice=practice,
        policy=policy,
        summary=summary(policy),
        categories=proxy_policy.CATEGORIES,
        errors=list(errors),
        history=history,
    ), status


@bp.get("/practices/<practice_uid>/proxy-policy")
@staff_required
def show(practice_uid):
    practice = _practice(practice_uid)
    return _page(practice, _current(practice))


@bp.post("/practices/<practice_uid>/proxy-policy")
@staff_required
def change(practice_uid):
    """Review (the confirmation page: what changes today for whom), then, confirmed, save and log the change."""
    practice = _practice(practice_uid)
    before = _current(practice)
    after, errors = _proposed(request.form)
    if errors:
        return _page(practice, before, errors, 400)
    conn = store.current()
    changes = proxy_policy.policy_changes(
        account_store.representative_links(conn, practice["id"]), before, after, proxy_policy.today()
    )
    if request.form.get("confirm") != "yes":
        return render_template(
            "practice/policy_confirm.html",
            practice=practice,
            before=summary(before),
            after=summary(after),
            policy=after,
            changes=changes,
        )
    with store.transaction(conn):
        account_store.save_proxy_policy(
            conn, practice["id"], after.limited_from, after.ends_at, " ".join(after.withheld)
        )
    detail = " ".join([f"Was: {summary(before)} Now: {summary(after)}", *changes])
    audit.record(conn, EVENT, audit.staff_actor(current_staff()), practice_id=practice["id"], detail=detail)
    flash("The proxy access policy is changed." + (f" {' '.join(changes)}" if changes else ""), "info")
    return redirect(url_for("practice_policy.show", practice_uid=practice_uid))
