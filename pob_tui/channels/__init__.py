"""Channels into and out of pob: mail in (IMAP, files) and out (SMTP). No Textual here."""
