from __future__ import annotations

from typing import Literal

from impserver.realtime.events import Event


class EmployeeStatusChanged(Event):
    """A colleague became Online, Away or Offline (for every employee's member lists)."""

    type: Literal["employee.status"] = "employee.status"
    employee_id: int
    status: str
