"""Tags: an administrators' list of labels (name, colour) that employees put on requests, to
find and filter them ("all refund requests from last week")."""
