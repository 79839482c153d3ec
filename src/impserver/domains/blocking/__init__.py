"""Blocks that hold: what a block covers (the visitor, their network address, their contacts),
for how long, and the checks that refuse a blocked person's new conversations."""
