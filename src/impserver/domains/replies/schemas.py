from __future__ import annotations

from pydantic import BaseModel, Field

from impserver.core.http import LARGEST_ID, Text

MAX_CODE = 32
MAX_TEXT = 4000


class CannedReplyWrite(BaseModel):
    """A canned reply as written in its form. ``shared``: offered to every employee (or, with
    ``resource_id``, to those serving that resource); only administrators write shared ones.
    The code and text are checked by the action, which names what is wrong with them."""

    code: Text = Field(max_length=10 * MAX_CODE)
    text: Text = Field(max_length=10 * MAX_TEXT)
    shared: bool = False
    resource_id: int | None = Field(default=None, ge=1, le=LARGEST_ID)


class CannedReplyRead(BaseModel):
    id: int
    code: str
    text: str
    shared: bool
    resource_id: int | None
    # Whether this employee may change it (their own, or any shared one for administrators).
    editable: bool
