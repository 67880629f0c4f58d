"""Routes of the workspace, one module per area: sign-in, pages, the JSON API, analysis, admin."""
