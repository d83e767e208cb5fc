"""`gateway console`: the operators' web console (app.py builds it, pages.py renders it,
security.py guards it, original.py shows a case's file with its findings)."""
