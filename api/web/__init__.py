"""The browser side of the API: the dashboard page (`/app`) and the static assets it and
the API docs load, all served by Xeno itself (no CDN)."""
