"""The request pipeline: classify → link → route → retrieve → check conflicts → pack."""
