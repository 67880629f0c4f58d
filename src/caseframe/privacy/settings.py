"""Where the key file and its passphrase come from when not given on the command line."""

KEY_ENV = "CASEFRAME_KEY"
PASSPHRASE_ENV = "CASEFRAME_KEY_PASSPHRASE"
