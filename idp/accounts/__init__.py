"""What happens to an account: every status and credential change (``lifecycle``) and the
events it emits after commit (``events``). Flows, the console and the CLI call it; it imports
no view."""
