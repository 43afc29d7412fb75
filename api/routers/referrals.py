"""Offers of referral (the receiving department confirms, the home region records the patient's
answer), a patient's timeline, and the duty-to-act list (JSON)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, StrictBool

from api import pagination
from api.deps import AnswersReferral, Bound, Caller, ConfirmsReferral, Conn
from api.pagination import Paged
from api.schemas import Reason, RowId
from capacity.vocabulary import Collaboration, Region
from workflow import referrals
from workflow.duty_to_act import DutyToAct, duty_to_act
from workflow.referrals import Offer, OfferStatus, TimelineEntry
from workflow.runs import Day

router = APIRouter(tags=["referrals"])


class DepartmentAnswer(BaseModel):
    """The receiving department's answer: it can take the patient on the offered day, or not."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"confirmed": True},
                {"confirmed": False, "reason": "no anaesthesia that day"},
            ]
        },
    )

    confirmed: StrictBool  # true or false, not "yes" or 1
    reason: Reason | None = None


class PatientAnswer(BaseModel):
    """The patient's answer to a confirmed offer, as the home region recorded it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"accepted": True}, {"accepted": False, "reason": "too far from home"}]
        },
    )

    accepted: StrictBool
    reason: Reason | None = None


@router.get("/v1/referrals", response_model=list[Offer], responses=pagination.paged())
def list_referrals(
    request: Request,
    response: Response,
    who: Caller,
    conn: Conn,
    page: Paged,
    status: OfferStatus | None = None,
) -> list[Offer]:
    """The offers the caller may see, newest first (paged): a department its incoming
    referrals, a region its patients', a chair its collaboration's
    (``?status=awaiting_department``...)."""
    offers = referrals.list_offers(conn, who, status)
    return pagination.in_memory(
        request, response, page, offers, lambda offer: (-offer.offer_id,), (int,)
    )


@router.post("/v1/referrals/{offer_id}/confirm", response_model=Offer)
def confirm_referral(
    offer_id: RowId, body: DepartmentAnswer, request: Request, who: ConfirmsReferral, conn: Conn
) -> Offer:
    """The receiving department confirms (the offer goes to the patient) or declines it (a
    reason is required; the slot is freed and the pair never proposed again)."""
    return referrals.answer_for_department(
        conn, who, offer_id, body.confirmed, body.reason, request.url.path
    )


@router.post("/v1/referrals/{offer_id}/answer", response_model=Offer)
def answer_referral(
    offer_id: RowId, body: PatientAnswer, request: Request, who: AnswersReferral, conn: Conn
) -> Offer:
    """The home region records the patient's answer to a confirmed offer: accepted (the
    booking is firm) or declined (the slot is freed; it counts as the patient's wish)."""
    return referrals.answer_for_patient(
        conn, who, offer_id, body.accepted, body.reason, request.url.path
    )


@router.get(
    "/v1/patients/{patient_id}/timeline",
    response_model=list[TimelineEntry],
    responses=pagination.paged(),
)
def patient_timeline(
    patient_id: str, request: Request, response: Response, who: Caller, conn: Conn, page: Paged
) -> list[TimelineEntry]:
    """Everything recorded for one patient the caller may see, oldest first (paged): pathway
    events (referral, offers and answers, booking, start) and decisions on proposals."""
    entries = list(enumerate(referrals.timeline(conn, who, patient_id)))
    shown = pagination.in_memory(
        request, response, page, entries, lambda entry: (entry[0],), (int,)
    )
    return [entry for _, entry in shown]


@router.get("/v1/duty-to-act", response_model=list[DutyToAct], responses=pagination.paged())
def list_duty_to_act(
    request: Request,
    response: Response,
    who: Caller,
    bound: Bound,
    page: Paged,
    today: Day | None = Query(default=None, description="default: today in Danish time"),
    collaboration: Collaboration | None = None,
    home_region: Region | None = None,
) -> list[DutyToAct]:
    """Patients whose newest solve does not start them at home by the deadline and for whom no
    offer of referral is documented, by days left (the region's duty to act), in scope
    (paged)."""
    found = duty_to_act(
        bound,
        who,
        today or referrals.today_in_denmark(),
        collaboration=collaboration.value if collaboration else None,
        home_region=home_region.value if home_region else None,
    )
    return pagination.in_memory(
        request,
        response,
        page,
        found,
        lambda item: (item.deadline.isoformat(), item.patient_id),
        (str, str),
    )
