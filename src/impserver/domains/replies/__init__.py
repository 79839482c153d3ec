"""Canned replies: short codes for the texts an employee types all day (personal or shared)."""
