"""The routes' dependencies as ``Annotated`` aliases: a parameter's type says what it gets.

``conn: Conn`` is a connection in the request's transaction (committed before the response is
sent), ``bound: Bound`` the app's engine, ``who: Caller`` any valid token's principal, and one
alias per :class:`~workflow.access.Action` admits only the roles the access table allows
(403 otherwise): ``who: StartsSolve``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy import Connection, Engine

from api.security import allow, connection, engine, principal
from workflow.access import Action, Principal

#: A connection in one transaction, committed before the response is sent (``scope``).
Conn = Annotated[Connection, Depends(connection, scope="function")]
#: The app's engine (for the workflow functions that open their own transactions).
Bound = Annotated[Engine, Depends(engine)]
#: The caller any valid token names (401 without one).
Caller = Annotated[Principal, Depends(principal)]

PostsPatients = Annotated[Principal, Depends(allow(Action.POST_PATIENTS))]
PatchesPatient = Annotated[Principal, Depends(allow(Action.PATCH_PATIENT))]
DeclaresCapacity = Annotated[Principal, Depends(allow(Action.DECLARE_CAPACITY))]
ImportsFhir = Annotated[Principal, Depends(allow(Action.IMPORT_FHIR))]
StartsSolve = Annotated[Principal, Depends(allow(Action.START_SOLVE))]
Decides = Annotated[Principal, Depends(allow(Action.DECIDE))]
CancelsRun = Annotated[Principal, Depends(allow(Action.CANCEL_RUN))]
ConfirmsReferral = Annotated[Principal, Depends(allow(Action.CONFIRM_REFERRAL))]
AnswersReferral = Annotated[Principal, Depends(allow(Action.ANSWER_REFERRAL))]
RunsScenarios = Annotated[Principal, Depends(allow(Action.RUN_SCENARIO))]
ReadsScenarios = Annotated[Principal, Depends(allow(Action.READ_SCENARIOS))]
ReadsAudit = Annotated[Principal, Depends(allow(Action.READ_AUDIT))]
ManagesTokens = Annotated[Principal, Depends(allow(Action.MANAGE_TOKENS))]
