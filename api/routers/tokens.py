"""Bearer tokens for admins: create (shown once), list (never the hash), revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request, Response
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from api import pagination, validation
from api.deps import Conn, ManagesTokens
from api.pagination import Paged
from api.schemas import RowId, storable
from capacity.errors import Invalid
from capacity.vocabulary import Collaboration, Region
from workflow import tables
from workflow.access import Role
from workflow.tokens import (
    Token,
    check_department,
    create_token,
    list_tokens,
    parse_duration,
    revoke_token,
    token_info,
)

router = APIRouter(prefix="/v1/tokens", tags=["tokens"])

#: The scope field each role's token must carry.
SCOPE = {
    Role.REGION: "region",
    Role.DEPARTMENT: "department_id",
    Role.COLLABORATION_CHAIR: "collaboration",
}


class TokenIn(BaseModel):
    """A token to create: its role, the scope that role needs, who holds it, and its expiry."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "role": "region",
                    "region": "Nordjylland",
                    "name": "Region Nordjylland",
                    "expires_in": "90d",
                }
            ]
        },
    )

    role: Role
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(storable)]
    region: Region | None = None
    department_id: str | None = Field(default=None, min_length=1, max_length=64)
    collaboration: Collaboration | None = None
    #: A duration such as ``90d``, ``12h`` or ``2w``; no expiry when left out.
    expires_in: str | None = None

    @field_validator("expires_in")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration(value)
        return value

    @model_validator(mode="after")
    def _scope(self) -> TokenIn:
        needed = SCOPE.get(self.role)
        if needed is not None and getattr(self, needed) is None:
            raise ValueError(f"role {self.role.value} needs {needed}")
        extra = [f for f in SCOPE.values() if f != needed and getattr(self, f) is not None]
        if extra:
            raise ValueError(f"role {self.role.value} takes no {', '.join(extra)}")
        return self


class TokenOut(Token):
    """A stored token (its hash never leaves the database)."""


class TokenCreated(TokenOut):
    """A new token: ``token`` is shown this once; send it as ``Authorization: Bearer``."""

    token: str


@router.post("", response_model=TokenCreated, status_code=201)
@validation.body_checks(validation.token_problems)
def post_token(
    body: TokenIn,
    request: Request,
    who: ManagesTokens,
    conn: Conn,
) -> TokenCreated:
    """Create a token (admin); the response holds the token itself, shown only this once.
    An unknown ``department_id`` is 422 with the closest known one as its did-you-mean."""
    tables.take_write_lock(conn)
    try:
        check_department(conn, body.department_id)
    except Invalid as unknown:
        problem = validation.department_problem(conn, "department_id", str(body.department_id))
        raise Invalid(unknown.message, errors=[problem] if problem else unknown.errors) from None
    expires_at = tables.now() + parse_duration(body.expires_in) if body.expires_in else None
    token, token_id = create_token(
        conn,
        body.role,
        body.name,
        region=body.region and body.region.value,
        department_id=body.department_id,
        collaboration=body.collaboration and body.collaboration.value,
        expires_at=expires_at,
        who=who,
        path=request.url.path,
    )
    return TokenCreated(**token_info(conn, token_id).model_dump(), token=token)


@router.get("", response_model=list[TokenOut], responses=pagination.paged())
def get_tokens(
    request: Request,
    response: Response,
    who: ManagesTokens,
    conn: Conn,
    page: Paged,
) -> list[TokenOut]:
    """Every token, oldest first, with its expiry and revocation (admin; paged)."""
    listed = [TokenOut(**token.model_dump()) for token in list_tokens(conn)]
    return pagination.in_memory(
        request, response, page, listed, lambda token: (token.token_id,), (int,)
    )


@router.delete("/{token_id}", response_model=TokenOut)
def delete_token(
    token_id: RowId,
    request: Request,
    who: ManagesTokens,
    conn: Conn,
) -> TokenOut:
    """Revoke a token (admin): from now on it is 401. The row stays for the audit log."""
    tables.take_write_lock(conn)
    revoked = revoke_token(conn, token_id, who=who, path=request.url.path)
    return TokenOut(**revoked.model_dump())
