"""E-mail transport: fetch over IMAP and send over SMTP. The pure side (parse, loop guard,
threading, templates, settings) is `pob_tui.mail`, below the services."""
