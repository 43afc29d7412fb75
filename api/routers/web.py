"""The review web page for collaboration meetings (server-rendered HTML under ``/web``).

Opened with a bearer token pasted into a login form, which opens a server-side session
(:mod:`api.web_sessions`): the HttpOnly, SameSite=Strict cookie holds only the session's random
id, and every request looks the session and its token up anew, so logout or a revoked token ends
it at once. Every form post must come from this site (Origin, else Referer) and carry its
session's CSRF secret. Notices and errors are named by code in the redirect (``?notice=accept``)
and worded here, never taken from the query string. Runs, proposals and decisions go through
:mod:`api.runs`, so a decision here is the same write, with the same checks and audit entry, as
one over the JSON API. The content itself is built by :mod:`reports.meeting`, which the printed
meeting pack renders too.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from sqlalchemy import Connection, Engine
from starlette.datastructures import UploadFile as StarletteUpload

from api.headers import policy_for_inline_styles
from api.problems import ApiProblem
from api.schemas import DecisionIn, SolveRun, SolveRunIn
from api.security import Principal, Role, engine, principal
from api.web_sessions import (
    WebSession,
    csrf_matches,
    end_session,
    find_session,
    open_session,
    same_origin,
    session_lifetime,
)
from capacity import calendar
from capacity.errors import Conflict, Forbidden, Invalid, KapacitetError, NotFound, QuotaExceeded
from capacity.storage import declaration_history, schema
from capacity.vocabulary import COLLABORATIONS, REGIONS
from interop.capacity_workbook import (
    MAX_BYTES as MAX_WORKBOOK_BYTES,
)
from interop.capacity_workbook import (
    Service,
    current_slots,
    department_services,
    read_template,
    template_bytes,
)
from reports import meeting
from reports.meeting import Filters
from reports.meeting.workbook import meeting_workbook
from workflow import decisions, referrals, runs, tables
from workflow.access import Action, allowed
from workflow.capacity import declare_capacity
from workflow.completeness import STALE_AFTER_DAYS, current_declarations, declaration_status
from workflow.duty_to_act import duty_to_act
from workflow.errors import Unavailable
from workflow.referrals import OPEN, Offer, OfferStatus, TimelineEntry

router = APIRouter(prefix="/web", tags=["web"], include_in_schema=False)

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
STATIC = Path(__file__).resolve().parents[1] / "static"
#: The files under /web/static: the page's own stylesheet and the meeting's (shared with the pack).
STATIC_FILES = {
    "web.css": STATIC / "web.css",
    "meeting.css": meeting.TEMPLATES / "meeting" / "meeting.css",
}
SESSION_COOKIE = "kapacitet_session"
#: The login form's CSRF token (double submit, before there is a session); after login it holds
#: a copy of the session's secret, but posts are checked against the session, never the cookie.
CSRF_COOKIE = "kapacitet_csrf"
LANG_COOKIE = "kapacitet_lang"
DISPLAY_COOKIE = "kapacitet_display"
#: Notices a redirect may name (``?notice=...``): a finished run and the three decisions.
NOTICES = ("run", "accept", "reject", "hold")
#: Errors a redirect may name (``?error=...``); each is a key of :data:`UI`.
ERRORS = (
    "bad_alternative",
    "bad_form",
    "not_allowed",
    "not_allowed_run",
    "reject_needs_reason",
    "invalid",
    "not_found",
    "conflict",
    "quota",
    "busy",
    "failed",
    "decline_needs_reason",
    "not_allowed_confirm",
    "not_allowed_answer",
    "offer_conflict",
    "offer_not_found",
)

logger = logging.getLogger(__name__)

_env = meeting.template_environment(TEMPLATES)
#: A text field of a posted form (missing fields are blank, checked by the route).
FormText = Annotated[str, Form()]

#: The page's own words (the meeting's words are in reports.meeting.TEXT).
UI: dict[str, dict[str, str]] = {
    "da": {
        "skip": "Spring til indhold",
        "login_title": "Log ind",
        "login_help": "Indsæt den adgangsnøgle, du har fået tildelt af den, der driver kapacitet "
        "i din region. Den er personlig; del den ikke.",
        "token": "Adgangstoken",
        "login": "Log ind",
        "logout": "Log ud",
        "bad_token": "Tokenet kendes ikke. Tjek at hele tokenet er indsat.",
        "bad_form": "Formularen er udløbet. Prøv igen.",
        "bad_origin": "Formularen kom ikke fra denne side og er afvist.",
        "refused": "Afvist",
        "back_to_review": "Tilbage til oversigten",
        "invalid": "Værdierne blev ikke godtaget. Tjek dato og uge, og prøv igen.",
        "not_found": "Forslaget eller kørslen findes ikke, eller du må ikke se den.",
        "conflict": "Det kunne ikke gennemføres: forslaget er allerede besluttet, patientens "
        "booking er ændret, eller en nyere kørsel dækker patienten. Genindlæs siden og beslut på "
        "den nyeste kørsel.",
        "quota": "Du har nået grænsen for kørsler i kø. Vent til en er færdig, og prøv igen.",
        "busy": "Databasen var optaget. Prøv igen om lidt.",
        "failed": "Det lykkedes ikke. Prøv igen, eller kontakt den, der driver kapacitet.",
        "done_saved": "Beslutningen er gemt.",
        "signed_in_as": "Logget ind som",
        "show": "Vis",
        "filters": "Filtre",
        "apply": "Filtrér",
        "reset": "Nulstil",
        "only_at_risk": "Kun i risiko",
        "only_away": "Kun henvisninger væk fra hjemafdelingen",
        "sort": "Sortér efter",
        "urgency": "Mest presserende",
        "solved_at": "data fra {when}",
        "headline": "Fristoverskridelser: {breaches} med deling mod {baseline} ved nuværende "
        "praksis",
        "headline_plain": "Fristoverskridelser: {breaches}",
        "headline_decide": "{n} forslag til beslutning",
        "role_region": "region",
        "role_collaboration_chair": "formand for samarbejde",
        "role_department": "afdeling",
        "role_specialist_unit": "specialenheden",
        "role_admin": "administrator",
        "role_viewer": "læseadgang",
        "bad_alternative": "Den valgte tid er ikke et af forslagets alternativer, eller den er "
        "ikke længere ledig. Genindlæs siden.",
        "start_run": "Start ny kørsel",
        "start_help": "Løser ventelisten, som den er nu; accepterede forslag beholdes, afviste par "
        "foreslås ikke igen.",
        "no_run": "Der er ingen kørsel for dette samarbejde og denne uge endnu.",
        "not_newest": "Der er startet en nyere kørsel; beslutninger træffes på den nyeste.",
        "reason_label": "Begrundelse (kræves ved afvisning)",
        "accept": "Acceptér",
        "reject": "Afvis",
        "hold": "Afvent",
        "reject_needs_reason": "En afvisning kræver en begrundelse.",
        "not_allowed": "Din rolle må ikke træffe beslutninger.",
        "not_allowed_run": "Din rolle må ikke starte kørsler.",
        "done_accept": "Accepteret: {patient}",
        "done_reject": "Afvist: {patient}",
        "done_hold": "Sat til at afvente: {patient}",
        "done_run": "Kørsel {run} er færdig.",
        "shown": "Viser {shown} af {total} forslag.",
        "days": "Dage frem",
        "large": "Storskærm",
        "normal": "Normal visning",
        "print": "Mødepakke til udskrift",
        "workbook": "Hent Excel",
        "language": "Sprog",
        "referrals": "Henvisninger",
        "referrals_department": "Indgående henvisninger",
        "referrals_region": "Tilbud om henvisning til regionens patienter",
        "referrals_all": "Tilbud om henvisning",
        "referrals_help_department": "Bekræft, at afdelingen kan tage patienten på den tilbudte "
        "dag, eller afvis med en begrundelse. Henvisninger, der venter på jeres svar, står først.",
        "referrals_help_region": "Når den modtagende afdeling har bekræftet, præsenterer regionen "
        "tilbuddet for patienten og registrerer svaret her.",
        "referrals_help_read": "Status for hvert tilbud; svarene gives af den modtagende afdeling "
        "og patientens region.",
        "status": "Status",
        "all_statuses": "alle",
        "offered": "Tilbudt tid",
        "offer": "Tilbud",
        "answers": "Svar og begrundelser",
        "confirm": "Bekræft",
        "decline": "Afvis",
        "decline_reason_label": "Begrundelse (kræves ved afvisning)",
        "patient_accepts": "Patienten siger ja",
        "patient_declines": "Patienten siger nej",
        "patient_reason_label": "Patientens begrundelse (valgfri)",
        "no_offers": "Ingen henvisninger.",
        "offers_shown": "Viser {shown} henvisninger.",
        "offers_shown_one": "Viser 1 henvisning.",
        "answer_confirmed": "Afdelingen bekræftede",
        "answer_declined": "Afdelingen afviste",
        "answer_accepted": "Patienten sagde ja",
        "answer_patient_declined": "Patienten sagde nej",
        "status_awaiting_department": "afventer modtagende afdeling",
        "status_awaiting_patient": "afventer patientens svar",
        "status_booked": "booket",
        "status_declined_by_department": "afvist af afdelingen",
        "status_declined_by_patient": "afvist af patienten",
        "done_awaiting_patient": "Bekræftet: {patient}. Regionen præsenterer nu tilbuddet.",
        "done_declined_by_department": "Afvist: {patient}. Tiden er frigivet.",
        "done_booked": "Patienten sagde ja: {patient} er booket.",
        "done_declined_by_patient": "Patienten sagde nej: {patient}. Tiden er frigivet.",
        "done_answer": "Svaret er gemt.",
        "decline_needs_reason": "En afvisning kræver en begrundelse.",
        "not_allowed_confirm": "Kun den modtagende afdeling kan bekræfte eller afvise.",
        "not_allowed_answer": "Kun patientens region kan registrere patientens svar.",
        "offer_conflict": "Tilbuddet er allerede besvaret, eller afdelingen har ikke bekræftet "
        "det endnu. Genindlæs siden.",
        "offer_not_found": "Tilbuddet findes ikke, eller du må ikke se det.",
        "timeline": "Forløb",
        "timeline_title": "Forløb for patient {patient}",
        "timeline_help": "Alt, der er registreret for patienten, ældste først: forløbets "
        "hændelser og beslutningerne på samarbejdsmødet.",
        "patient_not_found": "Patienten findes ikke, eller du må ikke se patientens forløb.",
        "when": "Dato",
        "what": "Hvad skete der",
        "detail": "Detaljer",
        "recorded": "registreret",
        "no_entries": "Intet registreret endnu.",
        "duty_help": "Regionen har handlepligt: tilbyd henvisning til en anden afdeling i tide.",
        "duty_shown": "{shown} patienter, heraf {overdue} med overskredet frist.",
        "back_to_referrals": "Til henvisningerne",
        "back_to_duty": "Til handlepligt",
        "declarations": "Indmeldinger",
        "declarations_title": "Indmeldt kapacitet pr. afdeling og uge",
        "declarations_help": "Hvornår hver afdeling sidst har indmeldt ledige tider for ugerne; "
        "manglende indmeldinger og indmeldinger ældre end {days} dage står først.",
        "declarations_shown": "{shown} afdelinger, heraf {flagged} med manglende eller forældede "
        "indmeldinger.",
        "stale_after": "Forældet efter (dage)",
        "fresh": "indmeldt",
        "stale": "ældre end {days} dage",
        "missing": "mangler",
        "version_n": "version {n}",
        "days_old": "{n} dage gammel",
        "no_departments": "Ingen afdelinger.",
        "declare": "Indmeld kapacitet",
        "declare_title": "Ledige tider: {name}",
        "declare_help": "Skriv antal ledige tider pr. dag og ydelse. Kun de celler, du ændrer, "
        "gemmes (som en ny version af ugen); tomme celler er uændrede.",
        "save": "Gem indmeldingen",
        "copy_last_week": "Kopiér sidste uge",
        "copied_note": "Udfyldt fra ugen før; gem for at indmelde.",
        "declared_at": "Senest indmeldt {when}, version {version}",
        "not_declared": "Ikke indmeldt endnu",
        "done_declared": "Gemt: {n} celle(r) ændret.",
        "done_unchanged": "Intet ændret; der er ikke gemt noget.",
        "slots_invalid": "Skriv et helt tal fra 0 til 999.",
        "declare_problems": "{n} celle(r) kan ikke gemmes; se markeringerne. Intet er gemt.",
        "upload_problems": "Regnearket kan ikke gemmes; intet er gemt:",
        "no_file": "Vælg et udfyldt regneark (.xlsx).",
        "template_download": "Hent regneark (Excel) for ugerne",
        "template_upload": "Indlæs udfyldt regneark",
        "workbook_file": "Regneark (.xlsx)",
        "upload": "Indlæs",
        "history": "Historik",
        "history_help": "De seneste versioner: hvornår, hvilken uge, hvem (kilde) og ledige tider "
        "i alt.",
        "source": "Kilde",
        "earlier_weeks": "Tidligere uger",
        "later_weeks": "Senere uger",
        "not_department": "Kun en afdeling kan indmelde sin egen kapacitet.",
    },
    "en": {
        "skip": "Skip to content",
        "login_title": "Sign in",
        "login_help": "Paste the access token you were given by whoever runs kapacitet in your "
        "region. It is personal; do not share it.",
        "token": "Access token",
        "login": "Sign in",
        "logout": "Sign out",
        "bad_token": "The token is not known. Check that the whole token was pasted.",
        "bad_form": "The form has expired. Please try again.",
        "bad_origin": "The form did not come from this site and was refused.",
        "refused": "Refused",
        "back_to_review": "Back to the overview",
        "invalid": "The values were not accepted. Check the date and week and try again.",
        "not_found": "The proposal or run does not exist, or you may not see it.",
        "conflict": "This could not be done: the proposal was already decided, the patient's "
        "booking has changed, or a newer run covers the patient. Reload the page and decide on "
        "the newest run.",
        "quota": "You have reached the limit of queued runs. Wait for one to finish, then retry.",
        "busy": "The database was busy. Try again in a moment.",
        "failed": "That did not work. Try again, or contact whoever runs kapacitet.",
        "done_saved": "The decision is saved.",
        "signed_in_as": "Signed in as",
        "show": "Show",
        "filters": "Filters",
        "apply": "Filter",
        "reset": "Reset",
        "only_at_risk": "Only at risk",
        "only_away": "Only referrals away from the home department",
        "sort": "Sort by",
        "urgency": "Most urgent",
        "solved_at": "data of {when}",
        "headline": "Breaches: {breaches} with sharing against {baseline} under current practice",
        "headline_plain": "Breaches: {breaches}",
        "headline_decide": "{n} proposals to decide",
        "role_region": "region",
        "role_collaboration_chair": "collaboration chair",
        "role_department": "department",
        "role_specialist_unit": "specialist unit",
        "role_admin": "administrator",
        "role_viewer": "read-only",
        "bad_alternative": "The chosen slot is not one of the proposal's alternatives, or it is no "
        "longer free. Reload the page.",
        "start_run": "Start a new run",
        "start_help": "Solves the waiting list as it is now; accepted proposals are kept, rejected "
        "pairs are not proposed again.",
        "no_run": "There is no run for this collaboration and week yet.",
        "not_newest": "A newer run has been started; decisions are taken on the newest.",
        "reason_label": "Reason (required to reject)",
        "accept": "Accept",
        "reject": "Reject",
        "hold": "Hold",
        "reject_needs_reason": "A rejection needs a reason.",
        "not_allowed": "Your role may not decide on proposals.",
        "not_allowed_run": "Your role may not start runs.",
        "done_accept": "Accepted: {patient}",
        "done_reject": "Rejected: {patient}",
        "done_hold": "Put on hold: {patient}",
        "done_run": "Run {run} has finished.",
        "shown": "Showing {shown} of {total} proposals.",
        "days": "Days ahead",
        "large": "Projector",
        "normal": "Normal view",
        "print": "Meeting pack for printing",
        "workbook": "Download Excel",
        "language": "Language",
        "referrals": "Referrals",
        "referrals_department": "Incoming referrals",
        "referrals_region": "Offers of referral to the region's patients",
        "referrals_all": "Offers of referral",
        "referrals_help_department": "Confirm that the department can take the patient on the "
        "offered day, or decline with a reason. Referrals awaiting your answer come first.",
        "referrals_help_region": "Once the receiving department has confirmed, the region "
        "presents the offer to the patient and records the answer here.",
        "referrals_help_read": "The status of each offer; the receiving department and the "
        "patient's region give the answers.",
        "status": "Status",
        "all_statuses": "all",
        "offered": "Offered slot",
        "offer": "Offer",
        "answers": "Answers and reasons",
        "confirm": "Confirm",
        "decline": "Decline",
        "decline_reason_label": "Reason (required to decline)",
        "patient_accepts": "Patient accepted",
        "patient_declines": "Patient declined",
        "patient_reason_label": "The patient's reason (optional)",
        "no_offers": "No referrals.",
        "offers_shown": "Showing {shown} referrals.",
        "offers_shown_one": "Showing 1 referral.",
        "answer_confirmed": "The department confirmed",
        "answer_declined": "The department declined",
        "answer_accepted": "The patient accepted",
        "answer_patient_declined": "The patient declined",
        "status_awaiting_department": "awaiting the receiving department",
        "status_awaiting_patient": "awaiting the patient's answer",
        "status_booked": "booked",
        "status_declined_by_department": "declined by the department",
        "status_declined_by_patient": "declined by the patient",
        "done_awaiting_patient": "Confirmed: {patient}. The region now presents the offer.",
        "done_declined_by_department": "Declined: {patient}. The slot is freed.",
        "done_booked": "The patient accepted: {patient} is booked.",
        "done_declined_by_patient": "The patient declined: {patient}. The slot is freed.",
        "done_answer": "The answer is saved.",
        "decline_needs_reason": "A decline needs a reason.",
        "not_allowed_confirm": "Only the receiving department can confirm or decline.",
        "not_allowed_answer": "Only the patient's region can record the patient's answer.",
        "offer_conflict": "The offer has already been answered, or the department has not "
        "confirmed it yet. Reload the page.",
        "offer_not_found": "The offer does not exist, or you may not see it.",
        "timeline": "Timeline",
        "timeline_title": "Timeline of patient {patient}",
        "timeline_help": "Everything recorded for the patient, oldest first: the pathway's events "
        "and the decisions of the collaboration meeting.",
        "patient_not_found": "The patient does not exist, or you may not see the patient's "
        "timeline.",
        "when": "Date",
        "what": "What happened",
        "detail": "Detail",
        "recorded": "recorded",
        "no_entries": "Nothing recorded yet.",
        "duty_help": "The region has a duty to act: offer referral to another department in time.",
        "duty_shown": "{shown} patients, {overdue} of them past the deadline.",
        "back_to_referrals": "To the referrals",
        "back_to_duty": "To the duty-to-act list",
        "declarations": "Declarations",
        "declarations_title": "Declared capacity per department and week",
        "declarations_help": "When each department last declared its free slots for the weeks; "
        "missing declarations and those older than {days} days come first.",
        "declarations_shown": "{shown} departments, {flagged} of them with missing or stale "
        "declarations.",
        "stale_after": "Stale after (days)",
        "fresh": "declared",
        "stale": "older than {days} days",
        "missing": "missing",
        "version_n": "version {n}",
        "days_old": "{n} days old",
        "no_departments": "No departments.",
        "declare": "Declare capacity",
        "declare_title": "Free slots: {name}",
        "declare_help": "Enter the free slots per day and service. Only the cells you change are "
        "saved (as a new version of the week); empty cells stay as they are.",
        "save": "Save the declaration",
        "copy_last_week": "Copy last week",
        "copied_note": "Filled from the week before; save to declare.",
        "declared_at": "Last declared {when}, version {version}",
        "not_declared": "Not declared yet",
        "done_declared": "Saved: {n} cell(s) changed.",
        "done_unchanged": "Nothing changed; nothing was saved.",
        "slots_invalid": "Enter a whole number from 0 to 999.",
        "declare_problems": "{n} cell(s) cannot be saved; see the marks. Nothing was saved.",
        "upload_problems": "The workbook cannot be saved; nothing was saved:",
        "no_file": "Choose a filled workbook (.xlsx).",
        "template_download": "Download the workbook (Excel) for these weeks",
        "template_upload": "Upload a filled workbook",
        "workbook_file": "Workbook (.xlsx)",
        "upload": "Upload",
        "history": "History",
        "history_help": "The latest versions: when, which week, who (source) and free slots "
        "in all.",
        "source": "Source",
        "earlier_weeks": "Earlier weeks",
        "later_weeks": "Later weeks",
        "not_department": "Only a department can declare its own capacity.",
    },
}

#: What a timeline entry says happened: every pathway event and every decision, in words.
TIMELINE_WORDS: dict[str, dict[str, str]] = {
    "da": {
        "event:referral_received": "Henvisning modtaget",
        "event:consent": "Samtykke til behandling",
        "event:followon_referral": "Henvisning til efterbehandling modtaget og accepteret",
        "event:paused_health": "Forløbet sat i bero (helbredsmæssige grunde)",
        "event:paused_wish": "Forløbet sat i bero (patientens ønske)",
        "event:resumed": "Forløbet genoptaget",
        "event:offer_made": "Tilbud om henvisning givet",
        "event:department_confirmed": "Modtagende afdeling bekræftede",
        "event:department_declined": "Modtagende afdeling afviste",
        "event:offer_accepted": "Patienten tog imod tilbuddet",
        "event:offer_declined": "Patienten takkede nej til tilbuddet",
        "event:booked": "Tid booket",
        "event:cancelled": "Tid aflyst",
        "event:started": "Undersøgelse eller behandling startet",
        "event:ended": "Forløbet afsluttet uden behandling",
        "decision:accept": "Forslag accepteret på samarbejdsmødet",
        "decision:reject": "Forslag afvist",
        "decision:hold": "Forslag sat til at afvente",
    },
    "en": {
        "event:referral_received": "Referral received",
        "event:consent": "Consent to treatment",
        "event:followon_referral": "Follow-on referral received and accepted",
        "event:paused_health": "Clock paused (health reasons)",
        "event:paused_wish": "Clock paused (patient's wish)",
        "event:resumed": "Clock resumed",
        "event:offer_made": "Offer of referral made",
        "event:department_confirmed": "Receiving department confirmed",
        "event:department_declined": "Receiving department declined",
        "event:offer_accepted": "Patient accepted the offer",
        "event:offer_declined": "Patient declined the offer",
        "event:booked": "Booked",
        "event:cancelled": "Booking cancelled",
        "event:started": "Examination or treatment started",
        "event:ended": "Pathway ended without treatment",
        "decision:accept": "Proposal accepted at the collaboration meeting",
        "decision:reject": "Proposal rejected",
        "decision:hold": "Proposal put on hold",
    },
}


# ---- session, language, CSRF ---------------------------------------------------------------


def _lang(request: Request) -> str:
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE) or "da"
    return chosen if chosen in meeting.LANGUAGES else "da"


def _display(request: Request) -> str:
    chosen = request.query_params.get("display") or request.cookies.get(DISPLAY_COOKIE) or ""
    return "large" if chosen == "large" else "normal"


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/web",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _remember(request: Request, response: Response) -> Response:
    """Keep a language or display choice made in the query string for later pages."""
    if request.query_params.get("lang") in meeting.LANGUAGES:
        _set_cookie(request, response, LANG_COOKIE, request.query_params["lang"])
    if request.query_params.get("display") in ("large", "normal"):
        _set_cookie(request, response, DISPLAY_COOKIE, request.query_params["display"])
    return response


def _session(request: Request, bound: Engine) -> WebSession | None:
    """The live session the cookie names (looked up, with its token, on every request)."""
    session_id = request.cookies.get(SESSION_COOKIE) or ""
    if not session_id:
        return None
    with bound.begin() as conn:
        return find_session(conn, session_id)


def _principal_of(token: str, bound: Engine) -> Principal | None:
    """The principal ``token`` names, checked by :func:`api.security.principal`, or None."""
    if not token:
        return None
    try:
        return principal(HTTPAuthorizationCredentials(scheme="Bearer", credentials=token), bound)
    except KapacitetError:  # the API's 401 (ApiProblem) is one too
        return None


def _refused(request: Request, code: str) -> HTMLResponse:
    """403: a form post that changed nothing (foreign origin or a CSRF token not its
    session's), with the server's message and a way back."""
    context = {"error": UI[_lang(request)][code], "next": "/web/review"}
    return _render(request, "web/refused.html", context, csrf="", status_code=403)


def _to_login(request: Request) -> RedirectResponse:
    target = "/web/review"
    if request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse("/web/login?" + urlencode({"next": target}), status_code=303)
    if request.cookies.get(SESSION_COOKIE):
        response.delete_cookie(SESSION_COOKIE, path="/web")
    return response


def _safe_back(value: str, default: str = "/web/review") -> str:
    """A redirect target inside the review pages only (never another site)."""
    return value if value.startswith("/web/") and "//" not in value else default


def _with_params(url: str, **params: str) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    csrf: str,
    status_code: int = 200,
) -> HTMLResponse:
    lang = _lang(request)
    page = _env.get_template(name).render(
        lang=lang,
        t=meeting.TEXT[lang],
        ui=UI[lang],
        display=_display(request),
        csrf=csrf,
        path=request.url.path,
        **context,
    )
    response = HTMLResponse(page, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    _remember(request, response)
    return response


def _problem_code(exc: Exception) -> str:
    """The page's error code for what the workflow or the API refused (the detail is logged)."""
    logger.info("review page refused a form: %s", exc)
    if isinstance(exc, QuotaExceeded):
        return "quota"
    if isinstance(exc, NotFound):
        return "not_found"
    if isinstance(exc, Forbidden):
        return "not_allowed"
    if isinstance(exc, Conflict):
        return "conflict"
    if isinstance(exc, Invalid | ValidationError | ValueError):
        return "invalid"
    if isinstance(exc, Unavailable):
        return "busy"
    if isinstance(exc, ApiProblem):
        by_status = {403: "not_allowed", 404: "not_found", 409: "conflict", 429: "quota"}
        if exc.status in (400, 422):
            return "invalid"
        return by_status.get(exc.status, "busy" if exc.status == 503 else "failed")
    return "failed"


# ---- login and logout ----------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def web_home() -> RedirectResponse:
    """The review page (or the login form first)."""
    return RedirectResponse("/web/review", status_code=303)


def _login_page(
    request: Request, next: str, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    """The login form with a fresh double-submit CSRF token (cookie and hidden field)."""
    csrf = secrets.token_urlsafe(32)
    context = {"next": _safe_back(next), "error": error}
    response = _render(request, "web/login.html", context, csrf=csrf, status_code=status_code)
    _set_cookie(request, response, CSRF_COOKIE, csrf)
    return response


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/web/review") -> HTMLResponse:
    """The login form: paste a bearer token."""
    return _login_page(request, next)


# The form posts are plain (sync) routes: FastAPI reads the form first and runs them in its
# thread pool, so a solve started from the page does not stall other requests.


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    token: FormText = "",
    csrf: FormText = "",
    next: FormText = "/web/review",
    bound: Engine = Depends(engine),
) -> Response:
    """Check the pasted token; on success open a server-side session and set its cookie."""
    ui = UI[_lang(request)]
    target = _safe_back(next or "/web/review")
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    if not same_origin(request.headers, request.url):
        return _login_page(request, target, ui["bad_origin"], status_code=403)
    if not cookie or not secrets.compare_digest(cookie.encode(), csrf.encode()):
        return _login_page(request, target, ui["bad_form"], status_code=403)
    who = _principal_of(token.strip(), bound)
    if who is None:
        return _login_page(request, target, ui["bad_token"], status_code=401)
    with bound.begin() as conn:
        end_session(conn, request.cookies.get(SESSION_COOKIE) or "")
        session_id, session = open_session(conn, who)
    response = RedirectResponse(target, status_code=303)
    lifetime = int(session_lifetime().total_seconds())
    _set_cookie(request, response, SESSION_COOKIE, session_id, max_age=lifetime)
    _set_cookie(request, response, CSRF_COOKIE, session.csrf, max_age=lifetime)
    return response


@router.post("/logout")
def logout(request: Request, csrf: FormText = "", bound: Engine = Depends(engine)) -> Response:
    """End the session on the server (its cookie no longer signs in) and forget the cookies."""
    if not same_origin(request.headers, request.url):
        return _refused(request, "bad_origin")
    session_id = request.cookies.get(SESSION_COOKIE) or ""
    with bound.begin() as conn:
        session = find_session(conn, session_id)
        if session is not None and not csrf_matches(session, csrf):
            return _refused(request, "bad_form")
        end_session(conn, session_id)
    response = RedirectResponse("/web/login", status_code=303)
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/web")
    return response


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """The page's stylesheets (:data:`STATIC_FILES`)."""
    path = STATIC_FILES.get(name)
    if path is None:
        return Response(status_code=404)
    media = {".css": "text/css", ".js": "text/javascript"}.get(path.suffix, "text/plain")
    return Response(path.read_bytes(), media_type=media)


# ---- the meeting pages ---------------------------------------------------------------------


def _collaboration(request: Request, who: Principal, newest: SolveRun | None) -> str:
    if who.role is Role.COLLABORATION_CHAIR and who.collaboration:
        return who.collaboration
    chosen = request.query_params.get("collaboration")
    if chosen in COLLABORATIONS:
        return chosen
    if newest is not None and newest.collaboration:
        return newest.collaboration
    return "lung"


def _choose(request: Request, who: Principal, bound: Engine) -> dict[str, Any]:
    """Collaboration, week and run from the query string, with sensible defaults."""
    with bound.begin() as conn:
        newest_id = tables.latest_run_id(conn)
        newest = runs.get_run(conn, newest_id) if newest_id is not None else None
        collaboration = _collaboration(request, who, newest)
        week = request.query_params.get("week") or ""
        if not _is_week(week):
            week = meeting.default_week(conn, collaboration, dt.date.today())
        candidates = meeting.meeting_runs(conn, collaboration, week)
    wanted = request.query_params.get("run")
    run = next((r for r in candidates if str(r.run_id) == wanted), None)
    if run is None and candidates:
        run = candidates[0]
    return {
        "who": who,
        "collaboration": collaboration,
        "collaborations": (collaboration,)
        if who.role is Role.COLLABORATION_CHAIR
        else COLLABORATIONS,
        "week": week,
        "runs": candidates,
        "run": run,
        "newest_id": newest_id,
        "default_today": _default_today(week).isoformat(),
        "can_start": allowed(who, Action.START_SOLVE),
    }


def _is_week(value: str) -> bool:
    """Whether ``value`` is an existing ISO week written ``YYYY-Www``."""
    return calendar.is_week(value)


def _default_today(week: str) -> dt.date:
    """Today when it falls in ``week``, else the week's Monday (the meeting's planning date)."""
    monday = calendar.week_monday(week)
    today = dt.date.today()
    return today if monday <= today <= monday + dt.timedelta(days=6) else monday


def _days(request: Request) -> int:
    value = request.query_params.get("days", "")
    return int(value) if value.isdigit() and 0 <= int(value) <= 365 else meeting.AT_RISK_DAYS


def _messages(
    request: Request, run: SolveRun | None, built: meeting.Meeting | None
) -> dict[str, Any]:
    """The notice and error a redirect named by code, worded by the server.

    A notice names its run or patient only when the page confirms it (the run shown, a row
    with that decision); arbitrary text in the query string is never shown. An error about
    one proposal (``?error=...&patient=...``) is shown next to that row when the page shows it
    (``row_error``), else at the top.
    """
    ui = UI[_lang(request)]
    code = request.query_params.get("error")
    error = ui[code] if code in ERRORS else None
    patient = request.query_params.get("patient")
    rows = built.page_rows if built is not None else ()
    row_error = None
    if error is not None and patient and any(r.patient_id == patient for r in rows):
        row_error, error = (patient, error), None
    notice = None
    code = request.query_params.get("notice")
    if code == "run" and run is not None and request.query_params.get("run") == str(run.run_id):
        notice = ui["done_run"].format(run=run.run_id)
    elif code in NOTICES and code != "run":
        confirmed = any(r.patient_id == patient and r.decision == code for r in rows)
        notice = ui[f"done_{code}"].format(patient=patient) if confirmed else ui["done_saved"]
    return {"notice": notice, "error": error, "row_error": row_error}


def _link(path: str, **params: str) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _nav(request: Request, who: Principal, base: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """The header's page links ``(path, label, href)`` for ``who``'s role: the meeting's pages
    (carrying its collaboration and week), the duty-to-act list for those who act on it or
    follow it (not a department: the duty is the home region's), and the referrals for all."""
    lang = _lang(request)
    t, ui = meeting.TEXT[lang], UI[lang]
    items = [
        ("/web/review", t["review"], _link("/web/review", **base)),
        ("/web/capacity", t["capacity"], _link("/web/capacity", **base)),
        ("/web/at-risk", t["at_risk"], _link("/web/at-risk", **base)),
    ]
    if who.role is not Role.DEPARTMENT:
        scope = {"collaboration": base["collaboration"]} if base.get("collaboration") else {}
        items.append(("/web/duty-to-act", t["duty_to_act"], _link("/web/duty-to-act", **scope)))
    items.append(("/web/referrals", ui["referrals"], "/web/referrals"))
    if _declares(who):
        items.append(("/web/declare", ui["declare"], "/web/declare"))
    scope = {"collaboration": base["collaboration"]} if base.get("collaboration") else {}
    items.append(("/web/declarations", ui["declarations"], _link("/web/declarations", **scope)))
    return items


def _page(request: Request, bound: Engine, template: str) -> Response:
    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    chosen = _choose(request, who, bound)
    filters = Filters.parse(request.query_params)
    built = None
    if chosen["run"] is not None:
        with bound.begin() as conn:
            built = meeting.build_meeting(
                conn,
                who,
                chosen["run"],
                collaboration=chosen["collaboration"],
                week=chosen["week"],
                filters=filters,
                lang=_lang(request),
                at_risk_days=_days(request),
                duty=False,
            )
    base = {"collaboration": chosen["collaboration"], "week": chosen["week"]}
    if chosen["run"] is not None:
        base["run"] = str(chosen["run"].run_id)
    here = {**base, **filters.query()}
    if template == "web/at_risk.html":
        here["days"] = str(_days(request))

    def url(path: str, **params: str) -> str:
        return f"{path}?{urlencode(params)}" if params else path

    def sort_url(key: str) -> str:
        return url("/web/review", **base, **filters.query(sort=key))

    def review_url(**changes: Any) -> str:
        """The review page with this view's filters and ``changes`` (e.g. ``page=2``)."""
        return url("/web/review", **base, **filters.query(**changes))

    def decision_url(row: meeting.ProposalRow) -> str:
        assert chosen["run"] is not None
        return f"/web/runs/{chosen['run'].run_id}/proposals/{row.patient_id}/decision"

    run = chosen["run"]
    context = {
        **chosen,
        "m": built,
        "base": base,
        "here": here,
        "url": url,
        "sort_url": sort_url,
        "review_url": review_url,
        "decision_url": decision_url,
        "back": url(request.url.path, **here),
        "interactive": True,
        "can_decide": allowed(who, Action.DECIDE)
        and run is not None
        and run.run_id == chosen["newest_id"],
        **_messages(request, run, built),
        "days": _days(request),
        "nav": _nav(request, who, base),
    }
    return _render(request, template, context, csrf=session.csrf)


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """Proposals grouped by sending and receiving department, with filters and decisions."""
    return _page(request, bound, "web/review.html")


@router.get("/capacity", response_class=HTMLResponse)
def capacity_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """Free slots against known and expected demand per department, procedure and ISO week
    (the chosen week and the five after it), holiday weeks marked, filterable by ``?region=``
    (:mod:`reports.meeting.capacity`); shown with or without a solve run."""
    from reports.meeting import capacity as lookahead

    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    chosen = _choose(request, who, bound)
    with bound.begin() as conn:
        view = lookahead.capacity_view(
            conn,
            who,
            chosen["collaboration"],
            chosen["week"],
            region=request.query_params.get("region") or None,
        )
    base = {"collaboration": chosen["collaboration"], "week": chosen["week"]}
    if chosen["run"] is not None:
        base["run"] = str(chosen["run"].run_id)
    here = {**base, **({"region": view.region} if view.region else {})}
    context = {
        **chosen,
        "m": None,
        "cv": view,
        "lags": "/".join(str(d) for d in sorted(set((view.deadline_days or {}).values()))),
        "expected_text": lookahead.expected_text,
        "holiday_name": lookahead.holiday_name,
        "base": base,
        "here": here,
        "url": _link,
        "back": _link(request.url.path, **here),
        **_messages(request, chosen["run"], None),
        "days": _days(request),
        "nav": _nav(request, who, base),
    }
    return _render(request, "web/capacity.html", context, csrf=session.csrf)


@router.get("/at-risk", response_class=HTMLResponse)
def at_risk_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The early warning: deadline within N days and no slot held on or before it."""
    return _page(request, bound, "web/at_risk.html")


def _pack_meeting(request: Request, bound: Engine) -> meeting.Meeting | Response:
    """The meeting of the chosen run as the session's caller may see it, narrowed by the
    page's filters (``?region=&department=&action=&provider_type=&at_risk=&away=&sort=``) as
    the pack shows them: the agenda view."""
    from reports.meeting.pack import pack_filters

    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    chosen = _choose(request, who, bound)
    if chosen["run"] is None:
        return RedirectResponse(
            "/web/review?" + urlencode({"collaboration": chosen["collaboration"]}), status_code=303
        )
    with bound.begin() as conn:
        return meeting.build_meeting(
            conn,
            who,
            chosen["run"],
            collaboration=chosen["collaboration"],
            week=chosen["week"],
            filters=pack_filters(Filters.parse(request.query_params)),
            lang=_lang(request),
            at_risk_days=_days(request),
        )


def _printable(page: str) -> HTMLResponse:
    response = HTMLResponse(page)
    response.headers["Cache-Control"] = "no-store"
    # self-contained for printing and saving: its inline stylesheet is allowed by its hash
    response.headers["Content-Security-Policy"] = policy_for_inline_styles(page)
    return response


@router.get("/pack", response_class=HTMLResponse)
def pack_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The printable meeting pack of the chosen run (as ``kapacitet report meeting`` writes):
    the agenda first, following the page's filters; every proposal is in the appendix."""
    from reports.meeting.pack_text import PACK_TEXT

    built = _pack_meeting(request, bound)
    if isinstance(built, Response):
        return built
    appendix = _link("/web/pack/appendix", **request.query_params)
    label = PACK_TEXT[built.lang]["appendix_link"]
    return _printable(meeting.render_pack_html(built, appendix=appendix, appendix_label=label))


@router.get("/pack/appendix", response_class=HTMLResponse)
def pack_appendix(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The pack's appendix: every proposal of the chosen run the filters show."""
    from reports.meeting.render import render_appendix_html

    built = _pack_meeting(request, bound)
    if isinstance(built, Response):
        return built
    return _printable(render_appendix_html(built))


@router.get("/pack.xlsx")
def pack_workbook(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The meeting pack's Excel workbook of the chosen run, following the page's filters."""
    built = _pack_meeting(request, bound)
    if isinstance(built, Response):
        return built
    buffer = io.BytesIO()
    meeting_workbook(built).save(buffer)
    name = f"meeting-{built.collaboration}-{built.week}-run{built.run.run_id}.xlsx"
    return Response(
        buffer.getvalue(),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _minutes(request: Request, bound: Engine) -> Any:
    """The minutes of the chosen collaboration, week and run as the session's caller may see
    them (a region its own patients' decisions), or the answer sending them elsewhere."""
    from reports.meeting.minutes import build_minutes

    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    chosen = _choose(request, session.who, bound)
    if chosen["run"] is None:
        return RedirectResponse(
            "/web/review?" + urlencode({"collaboration": chosen["collaboration"]}), status_code=303
        )
    with bound.begin() as conn:
        return build_minutes(
            conn,
            session.who,
            chosen["run"],
            collaboration=chosen["collaboration"],
            week=chosen["week"],
            lang=_lang(request),
        )


@router.get("/minutes", response_class=HTMLResponse)
def minutes_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The meeting's minutes (referat): every decision on the week's runs up to the chosen
    one, grouped by decision, under the key figures (as ``kapacitet report minutes`` writes)."""
    from reports.meeting.render import render_minutes_html

    built = _minutes(request, bound)
    if isinstance(built, Response):
        return built
    return _printable(render_minutes_html(built))


@router.get("/minutes.csv")
def minutes_csv(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The minutes' decisions as CSV, for the archive."""
    from reports.meeting.minutes import minutes_csv as as_csv

    built = _minutes(request, bound)
    if isinstance(built, Response):
        return built
    name = f"minutes-{built.collaboration}-{built.week}-run{built.run.run_id}.csv"
    return Response(
        as_csv(built),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _form_session(request: Request, bound: Engine, csrf: str) -> WebSession | Response:
    """The session a form post acts in, or the answer refusing it: 403 for a foreign origin or
    a CSRF token that is not this session's, the login form when there is no session."""
    if not same_origin(request.headers, request.url):
        return _refused(request, "bad_origin")
    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    if not csrf_matches(session, csrf):
        return _refused(request, "bad_form")
    return session


@router.post("/runs")
def start_run(
    request: Request,
    collaboration: FormText = "",
    week: FormText = "",
    today: FormText = "",
    csrf: FormText = "",
    bound: Engine = Depends(engine),
) -> Response:
    """Start a solve run for the chosen collaboration and week, then show its proposals."""
    session = _form_session(request, bound, csrf)
    if isinstance(session, Response):
        return session
    who = session.who
    if who.role is Role.COLLABORATION_CHAIR and who.collaboration:
        collaboration = who.collaboration
    back = "/web/review?" + urlencode({"collaboration": collaboration, "week": week})
    if not allowed(who, Action.START_SOLVE):
        return RedirectResponse(_with_params(back, error="not_allowed_run"), status_code=303)
    try:
        body = SolveRunIn.model_validate(
            {"today": today, "week": week, "collaboration": collaboration}
        )
        run = runs.start_run(bound, who, body, request.url.path)
    except (ValidationError, ApiProblem, KapacitetError, ValueError) as exc:
        error = _problem_code(exc)
        return RedirectResponse(_with_params(back, error=error), status_code=303)
    target = _with_params(back, run=str(run.run_id), notice="run")
    return RedirectResponse(target, status_code=303)


@router.post("/runs/{run_id}/proposals/{patient_id}/decision")
def decide(
    run_id: int,
    patient_id: str,
    request: Request,
    decision: FormText = "",
    reason: FormText = "",
    department_id: FormText = "",
    date: FormText = "",
    csrf: FormText = "",
    back: FormText = "/web/review",
    bound: Engine = Depends(engine),
) -> Response:
    """Accept (the proposal, or one of its alternatives: ``department_id`` and ``date``),
    reject (with a reason) or hold one proposal, then return to the same row of the same view;
    an error is shown next to that row."""
    session = _form_session(request, bound, csrf)
    if isinstance(session, Response):
        return session
    who = session.who
    back = _safe_back(back or "/web/review")

    def answer(**params: str) -> RedirectResponse:
        anchor = "#p-" + quote(patient_id, safe="")
        return RedirectResponse(
            _with_params(back, **params, patient=patient_id) + anchor, status_code=303
        )

    if not allowed(who, Action.DECIDE):
        return answer(error="not_allowed")
    why = reason.strip() or None
    if decision == "reject" and why is None:
        return answer(error="reject_needs_reason")
    chosen = {"department_id": department_id, "date": date} if department_id or date else {}
    try:
        body = DecisionIn.model_validate({"decision": decision, "reason": why, **chosen})
        with bound.begin() as conn:
            decisions.decide(
                conn,
                who,
                run_id,
                patient_id,
                body.decision,
                body.reason,
                request.url.path,
                **_alternative(body),
            )
    except (ValidationError, ApiProblem, KapacitetError) as exc:
        code = _problem_code(exc)
        return answer(
            error="bad_alternative" if chosen and code in ("invalid", "conflict") else code
        )
    return answer(notice=decision)


def _alternative(body: DecisionIn) -> dict[str, Any]:
    """The alternative a decision names, as :func:`workflow.decisions.decide` takes it."""
    department = getattr(body, "department_id", None)
    day = getattr(body, "date", None)
    if department is None and day is None:
        return {}
    return {"department_id": department, "date": day}


# ---- referrals, a patient's timeline, the duty-to-act list -----------------------------------


def _chrome(request: Request, who: Principal, here: Mapping[str, str]) -> dict[str, Any]:
    """What the header needs on the pages outside the meeting (no collaboration or week)."""
    return {
        "who": who,
        "url": _link,
        "base": {},
        "here": dict(here),
        "nav": _nav(request, who, {}),
        "timeline_url": _timeline_url,
    }


def _timeline_url(patient_id: str) -> str:
    return "/web/patients/" + quote(patient_id, safe="")


def _first_status(who: Principal) -> frozenset[OfferStatus]:
    """The offers a role answers, listed first: a department's awaiting it, a region's
    awaiting the patient, everyone else's open ones."""
    if who.role is Role.DEPARTMENT:
        return frozenset({OfferStatus.AWAITING_DEPARTMENT})
    if who.role is Role.REGION:
        return frozenset({OfferStatus.AWAITING_PATIENT})
    return OPEN


def _form_for(who: Principal, offer: Offer) -> str | None:
    """The answer ``who`` may give on ``offer`` now: "department", "patient" or None."""
    if (
        allowed(who, Action.CONFIRM_REFERRAL)
        and offer.status is OfferStatus.AWAITING_DEPARTMENT
        and offer.department_id == who.department_id
    ):
        return "department"
    if (
        allowed(who, Action.ANSWER_REFERRAL)
        and offer.status is OfferStatus.AWAITING_PATIENT
        and offer.home_region == who.region
    ):
        return "patient"
    return None


def _referral_messages(request: Request, offers: list[Offer]) -> dict[str, Any]:
    """The notice and error a referral form's redirect named by code and offer id. An error
    about an offer shown on the page is shown in its row; a notice names the patient only when
    the offer's status confirms it."""
    ui = UI[_lang(request)]
    shown = {str(o.offer_id): o for o in offers}
    offer = shown.get(request.query_params.get("offer") or "")
    error, row_error, notice = None, None, None
    code = request.query_params.get("error")
    if code in ERRORS:
        if offer is not None:
            row_error = (offer.offer_id, ui[code])
        else:
            error = ui[code]
    code = request.query_params.get("notice")
    if code in set(OfferStatus):
        confirmed = offer is not None and offer.status.value == code
        notice = (
            ui[f"done_{code}"].format(patient=offer.patient_id)
            if confirmed and offer is not None and f"done_{code}" in ui
            else ui["done_answer"]
        )
    return {"notice": notice, "error": error, "row_error": row_error}


@router.get("/referrals", response_class=HTMLResponse)
def referrals_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """Offers of referral: a department's incoming ones to confirm or decline, a region's
    patients' to record the answer on, everyone else's read-only; filtered by status."""
    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    chosen = request.query_params.get("status") or ""
    status = OfferStatus(chosen) if chosen in set(OfferStatus) else None
    with bound.begin() as conn:
        offers = referrals.list_offers(conn, who, status)
        names = meeting.department_names(conn)
    first = _first_status(who)
    offers.sort(key=lambda o: o.status not in first)  # stable: newest first within each part
    here = {"status": status.value} if status is not None else {}
    if who.role is Role.DEPARTMENT:
        heading, help_key = "referrals_department", "referrals_help_department"
    elif who.role is Role.REGION:
        heading, help_key = "referrals_region", "referrals_help_region"
    else:
        heading, help_key = "referrals_all", "referrals_help_read"
    context = {
        **_chrome(request, who, here),
        "offers": [(offer, _form_for(who, offer)) for offer in offers],
        "status": status.value if status is not None else "",
        "statuses": [s.value for s in OfferStatus],
        "departments": names,
        "heading": heading,
        "help_key": help_key,
        "back": _link("/web/referrals", **here),
        **_referral_messages(request, offers),
    }
    return _render(request, "web/referrals.html", context, csrf=session.csrf)


def _offer_code(exc: Exception) -> str:
    """The referral forms' error code for what the workflow refused."""
    code = _problem_code(exc)
    return {"conflict": "offer_conflict", "not_found": "offer_not_found"}.get(code, code)


def _answer_redirect(back: str, offer_id: int, **params: str) -> RedirectResponse:
    target = _with_params(_safe_back(back or "/web/referrals", "/web/referrals"), **params)
    target = _with_params(target, offer=str(offer_id))
    return RedirectResponse(f"{target}#o-{offer_id}", status_code=303)


#: The workflow step that records an answer to an offer (``yes``: confirmed or accepted).
Answer = Callable[[Connection, Principal, int, bool, str | None, str], Offer]


def _answer_offer(
    request: Request,
    bound: Engine,
    offer_id: int,
    form: tuple[str, str, str, str],
    *,
    action: Action,
    refused: str,
    answers: tuple[str, str],
    record: Answer,
    reason_to_decline: bool,
) -> Response:
    """One answer to an offer, posted as ``form`` (answer, reason, csrf, back): the session and
    CSRF check, the role, the answer's words (``answers``: yes, no) and reason, then ``record``;
    back to the referrals with the offer's new status or the error's code."""
    answer, reason, csrf, back = form
    session = _form_session(request, bound, csrf)
    if isinstance(session, Response):
        return session
    if not allowed(session.who, action):
        return _answer_redirect(back, offer_id, error=refused)
    why = reason.strip() or None
    if answer not in answers or len(why or "") > 2000:
        return _answer_redirect(back, offer_id, error="invalid")
    if reason_to_decline and answer == answers[1] and why is None:
        return _answer_redirect(back, offer_id, error="decline_needs_reason")
    try:
        with bound.begin() as conn:
            offer = record(conn, session.who, offer_id, answer == answers[0], why, request.url.path)
    except KapacitetError as exc:
        return _answer_redirect(back, offer_id, error=_offer_code(exc))
    return _answer_redirect(back, offer_id, notice=offer.status.value)


@router.post("/referrals/{offer_id}/department")
def department_answer(
    offer_id: int,
    request: Request,
    answer: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
    back: FormText = "/web/referrals",
    bound: Engine = Depends(engine),
) -> Response:
    """The receiving department confirms or declines (with a reason) an incoming referral."""
    return _answer_offer(
        request,
        bound,
        offer_id,
        (answer, reason, csrf, back),
        action=Action.CONFIRM_REFERRAL,
        refused="not_allowed_confirm",
        answers=("confirm", "decline"),
        record=referrals.answer_for_department,
        reason_to_decline=True,
    )


@router.post("/referrals/{offer_id}/patient")
def patient_answer(
    offer_id: int,
    request: Request,
    answer: FormText = "",
    reason: FormText = "",
    csrf: FormText = "",
    back: FormText = "/web/referrals",
    bound: Engine = Depends(engine),
) -> Response:
    """The home region records the patient's answer to a confirmed offer."""
    return _answer_offer(
        request,
        bound,
        offer_id,
        (answer, reason, csrf, back),
        action=Action.ANSWER_REFERRAL,
        refused="not_allowed_answer",
        answers=("accepted", "declined"),
        record=referrals.answer_for_patient,
        reason_to_decline=False,
    )


def _what(entry: TimelineEntry, lang: str) -> str:
    """A timeline entry's event or decision in words (the code itself if it has none yet)."""
    words = TIMELINE_WORDS[lang].get(f"{entry.kind}:{entry.what}")
    return words or meeting.term(entry.what, lang)


@router.get("/patients/{patient_id}", response_class=HTMLResponse)
def patient_page(patient_id: str, request: Request, bound: Engine = Depends(engine)) -> Response:
    """One patient's timeline: pathway events and decisions, oldest first, with the offers."""
    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    lang = _lang(request)
    context: dict[str, Any] = {
        **_chrome(request, who, {}),
        "patient_id": patient_id,
        "entries": [],
        "offers": [],
    }
    try:
        with bound.begin() as conn:
            entries = referrals.timeline(conn, who, patient_id)
            offers = [o for o in referrals.list_offers(conn, who) if o.patient_id == patient_id]
            names = meeting.department_names(conn)
    except NotFound:
        context["error"] = UI[lang]["patient_not_found"]
        return _render(request, "web/patient.html", context, csrf=session.csrf, status_code=404)
    context |= {
        "entries": [(entry, _what(entry, lang)) for entry in entries],
        "offers": offers,
        "departments": names,
    }
    return _render(request, "web/patient.html", context, csrf=session.csrf)


def _day_param(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _ListScope:
    """The collaboration and region a list page shows, and the choices its filters offer."""

    collaborations: tuple[str, ...]
    collaboration: str | None
    regions: tuple[str, ...]
    region: str | None


def _list_scope(who: Principal, params: Mapping[str, str]) -> _ListScope:
    """A chair sees their own collaboration and a region its own region, without a choice;
    everyone else may pick one of each (blank: all) from the query string."""
    if who.role is Role.COLLABORATION_CHAIR and who.collaboration:
        collaborations: tuple[str, ...] = (who.collaboration,)
        collaboration: str | None = who.collaboration
    else:
        collaborations = COLLABORATIONS
        chosen = params.get("collaboration")
        collaboration = chosen if chosen in COLLABORATIONS else None
    if who.role is Role.REGION and who.region:
        regions: tuple[str, ...] = (who.region,)
        region: str | None = who.region
    else:
        regions = REGIONS
        wanted = params.get("region")
        region = wanted if wanted in REGIONS else None
    return _ListScope(collaborations, collaboration, regions, region)


@router.get("/duty-to-act", response_class=HTMLResponse)
def duty_to_act_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The duty-to-act list (handlepligt) in the caller's scope, by collaboration and region."""
    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    params = request.query_params
    scope = _list_scope(who, params)
    collaborations, collaboration = scope.collaborations, scope.collaboration
    regions, region = scope.regions, scope.region
    asked = _day_param(params.get("today"))
    today = asked or referrals.today_in_denmark()
    rows = duty_to_act(bound, who, today, collaboration=collaboration, home_region=region)
    with bound.begin() as conn:
        names = meeting.department_names(conn)
    here = {
        key: value
        for key, value in {
            "collaboration": collaboration if len(collaborations) > 1 else None,
            "region": region if len(regions) > 1 else None,
            "today": asked.isoformat() if asked else None,
        }.items()
        if value
    }
    context = {
        **_chrome(request, who, here),
        "duty_rows": rows,
        "duty_today": today,
        "departments": names,
        "interactive": True,
        "collaboration": collaboration or "",
        "duty_collaboration": collaboration,
        "collaborations": collaborations,
        "region": region or "",
        "regions": regions,
        "overdue": sum(1 for r in rows if r.days_left < 0),
    }
    return _render(request, "web/duty_to_act.html", context, csrf=session.csrf)


# ---- capacity declarations: who has declared for which weeks, and when -----------------------


def _stale_days(value: str | None) -> int:
    return int(value) if value and value.isdigit() and 1 <= int(value) <= 365 else STALE_AFTER_DAYS


@router.get("/declarations", response_class=HTMLResponse)
def declarations_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """Completeness and staleness: per department and week of the horizon, whether its capacity
    is declared and when it was last changed; missing and stale ones flagged and listed first."""
    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    params = request.query_params
    scope = _list_scope(who, params)
    collaborations, collaboration = scope.collaborations, scope.collaboration
    regions, region = scope.regions, scope.region
    days = _stale_days(params.get("days"))
    now = tables.now()
    with bound.begin() as conn:
        week = params.get("week") or ""
        if not _is_week(week):
            week = calendar.week_of(referrals.today_in_denmark())
        weeks = meeting.horizon(week)
        rows = declaration_status(
            conn,
            weeks,
            now=now,
            collaboration=collaboration,
            region=region,
            stale_after_days=days,
        )
    if who.role is Role.DEPARTMENT:
        rows = tuple(r for r in rows if r.department_id == who.department_id)
    here = {
        key: value
        for key, value in {
            "collaboration": collaboration if len(collaborations) > 1 else None,
            "region": region if len(regions) > 1 else None,
            "week": week,
            "days": str(days) if days != STALE_AFTER_DAYS else None,
        }.items()
        if value
    }
    context = {
        **_chrome(request, who, here),
        "rows": rows,
        "weeks": weeks,
        "week": week,
        "now": now,
        "days": days,
        "collaboration": collaboration or "",
        "collaborations": collaborations,
        "region": region or "",
        "regions": regions,
        "flagged": sum(r.flagged for r in rows),
    }
    return _render(request, "web/declarations.html", context, csrf=session.csrf)


# ---- the department's declaration page: a grid of days x services per week ------------------

#: Weeks the declaration page shows from the chosen one.
DECLARE_WEEKS = 4


def _declares(who: Principal) -> bool:
    """Whether ``who`` declares capacity on the page: a department, for itself."""
    return who.role is Role.DEPARTMENT and bool(who.department_id)


def _declare_weeks(value: str | None) -> list[str]:
    first = value if value and _is_week(value) else calendar.week_of(referrals.today_in_denmark())
    return list(calendar.horizon(first, DECLARE_WEEKS))


def _cell_name(collaboration: str, procedure: str, day: dt.date) -> str:
    return f"slots-{collaboration}-{procedure}-{day.isoformat()}"


def _declaration_grid(
    conn: Connection, department_id: str, weeks: list[str], copy: set[str]
) -> tuple[str, list[Service], list[dict[str, Any]]]:
    """The department's name, services and per week its days with the current free slots
    (``None`` where nothing is declared; the week before's for the weeks in ``copy``)."""
    name, services = department_services(conn, department_id)
    before = [calendar.week_of(calendar.week_monday(w) - dt.timedelta(days=7)) for w in weeks]
    slots = current_slots(conn, department_id, sorted(set(weeks) | set(before)))
    declared = current_declarations(conn, weeks, [department_id])
    grid = []
    for week in weeks:
        monday = calendar.week_monday(week)
        days = []
        for i in range(7):
            day = monday + dt.timedelta(days=i)
            source = day - dt.timedelta(days=7) if week in copy else day
            values = {s.key: slots.get((s.collaboration, s.procedure, source)) for s in services}
            days.append({"day": day, "values": values})
        found = declared.get((department_id, week))
        grid.append(
            {
                "week": week,
                "days": days,
                "declared_at": found[0] if found else None,
                "version": found[1] if found else None,
                "copied": week in copy,
            }
        )
    return name, services, grid


def _declare_context(
    request: Request,
    who: Principal,
    bound: Engine,
    weeks: list[str],
    *,
    copy: set[str] | None = None,
    entered: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    department = str(who.department_id)
    with bound.connect() as conn:
        name, services, grid = _declaration_grid(conn, department, weeks, copy or set())
        history = declaration_history(conn.engine, department_id=department)
    history = history.sort_values(["loaded_at", "week"], ascending=[False, True]).head(20)
    with bound.connect() as conn:
        sources = dict(conn.execute(sa.select(schema.loads.c.load_id, schema.loads.c.source)).all())
    return {
        **_chrome(request, who, {"week": weeks[0]}),
        "department_id": department,
        "department_name": name,
        "services": services,
        "grid": grid,
        "weeks": weeks,
        "cell_name": _cell_name,
        "entered": dict(entered or {}),
        "problems": dict(problems or {}),
        "history": [
            {**row, "source": sources.get(row["load_id"], "")}
            for row in history.to_dict(orient="records")
        ],
        "previous_week": calendar.week_of(calendar.week_monday(weeks[0]) - dt.timedelta(days=7)),
        "next_week": weeks[1] if len(weeks) > 1 else weeks[0],
    }


@router.get("/declare", response_class=HTMLResponse)
def declare_page(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The department's capacity for this week and the next ones as a grid of days x services,
    pre-filled with the current declaration; ``?copy=WEEK`` fills a week from the week before
    (saved only when the form is sent)."""
    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    if not _declares(who):
        return _refused(request, "not_department")
    weeks = _declare_weeks(request.query_params.get("week"))
    copy = {w for w in request.query_params.getlist("copy") if w in weeks}
    context = _declare_context(request, who, bound, weeks, copy=copy)
    context |= _declare_messages(request)
    return _render(request, "web/declare.html", context, csrf=session.csrf)


def _declare_messages(request: Request) -> dict[str, Any]:
    ui = UI[_lang(request)]
    code = request.query_params.get("notice")
    changed = request.query_params.get("changed", "")
    notice = None
    if code == "declared" and changed.isdigit():
        notice = ui["done_declared"].format(n=int(changed))
    elif code == "unchanged":
        notice = ui["done_unchanged"]
    return {"notice": notice}


@router.post("/declare", response_class=HTMLResponse)
async def save_declaration(request: Request, bound: Engine = Depends(engine)) -> Response:
    """Save the grid: only the cells whose value differs from the current declaration are
    declared (a partial declaration, a new version of each week it changes); a bad value is
    shown next to its cell and nothing is saved."""
    form = await request.form()
    fields = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    session = _form_session(request, bound, fields.get("csrf", ""))
    if isinstance(session, Response):
        return session
    who = session.who
    if not _declares(who):
        return _refused(request, "not_department")
    weeks = _declare_weeks(fields.get("week"))
    lang = _lang(request)
    with bound.connect() as conn:
        _, services, grid = _declaration_grid(conn, str(who.department_id), weeks, set())
    changes: list[dict[str, Any]] = []
    problems: dict[str, str] = {}
    for week in grid:
        for entry in week["days"]:
            for service in services:
                name = _cell_name(service.collaboration, service.procedure, entry["day"])
                if name not in fields:
                    continue
                text = fields[name].strip()
                stored = entry["values"][service.key]
                if text == "":
                    continue  # blank: unchanged
                if not text.isdigit() or int(text) > 999:
                    problems[name] = UI[lang]["slots_invalid"]
                    continue
                if stored is None or int(text) != stored:
                    changes.append(
                        {
                            "department_id": who.department_id,
                            "collaboration": service.collaboration,
                            "procedure": service.procedure,
                            "date": entry["day"].isoformat(),
                            "free_slots": int(text),
                        }
                    )
    if problems:
        context = _declare_context(request, who, bound, weeks, entered=fields, problems=problems)
        context["error"] = UI[lang]["declare_problems"].format(n=len(problems))
        return _render(request, "web/declare.html", context, csrf=session.csrf, status_code=422)
    back = "/web/declare?" + urlencode({"week": weeks[0]})
    if not changes:
        return RedirectResponse(_with_params(back, notice="unchanged"), status_code=303)

    def audit(conn: Connection, report: Any) -> None:
        tables.append_audit(
            conn, who, "POST", request.url.path, str(who.department_id), after={"capacity": changes}
        )

    try:
        declare_capacity(
            bound,
            who.department_id,
            f"web: {who.name}",
            capacity=changes,
            partial=True,
            recorded=audit,
        )
    except KapacitetError as exc:
        context = _declare_context(request, who, bound, weeks, entered=fields)
        context["error"] = UI[lang][_problem_code(exc)]
        return _render(request, "web/declare.html", context, csrf=session.csrf, status_code=422)
    return RedirectResponse(
        _with_params(back, notice="declared", changed=str(len(changes))), status_code=303
    )


@router.get("/declare/template.xlsx")
def declare_template(request: Request, bound: Engine = Depends(engine)) -> Response:
    """The department's Excel template for the page's weeks."""
    session = _session(request, bound)
    if session is None:
        return _to_login(request)
    who = session.who
    if not _declares(who):
        return _refused(request, "not_department")
    weeks = _declare_weeks(request.query_params.get("week"))
    with bound.connect() as conn:
        data = template_bytes(conn, str(who.department_id), weeks, _lang(request))
    name = f"kapacitet-{who.department_id}-{weeks[0]}-{weeks[-1]}.xlsx"
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post("/declare/workbook", response_class=HTMLResponse)
async def upload_declaration(request: Request, bound: Engine = Depends(engine)) -> Response:
    """A filled template uploaded from the page: stored like the API's upload, every problem
    listed with its sheet!cell."""
    form = await request.form()
    csrf = form.get("csrf")
    session = _form_session(request, bound, csrf if isinstance(csrf, str) else "")
    if isinstance(session, Response):
        return session
    who = session.who
    if not _declares(who):
        return _refused(request, "not_department")
    week = form.get("week")
    weeks = _declare_weeks(week if isinstance(week, str) else None)
    lang = _lang(request)
    upload = form.get("workbook")
    data = await upload.read(MAX_WORKBOOK_BYTES + 1) if isinstance(upload, StarletteUpload) else b""
    try:
        if not data:
            raise Invalid(UI[lang]["no_file"], errors=[])
        filled = read_template(data, "workbook")

        def audit(conn: Connection, report: Any) -> None:
            tables.append_audit(
                conn,
                who,
                "POST",
                request.url.path,
                str(who.department_id),
                after={"workbook_cells": len(filled.rows), "weeks": list(filled.weeks)},
            )

        declare_capacity(
            bound,
            who.department_id,
            f"workbook: {who.name}",
            capacity=list(filled.rows),
            partial=True,
            recorded=audit,
        )
    except KapacitetError as exc:
        context = _declare_context(request, who, bound, weeks)
        context["error"] = UI[lang]["upload_problems"]
        context["upload_problems"] = [
            f"{e['field']}: {e['message']}" for e in (exc.errors or [])
        ] or [str(exc) if isinstance(exc, Invalid) else UI[lang][_problem_code(exc)]]
        return _render(request, "web/declare.html", context, csrf=session.csrf, status_code=422)
    back = "/web/declare?" + urlencode({"week": weeks[0]})
    return RedirectResponse(
        _with_params(back, notice="declared", changed=str(len(filled.rows))), status_code=303
    )
