"""E-mail without the network: settings, parsing real-world messages, loop guard, threading
and the mail texts. Services import it; `channels/mail` fetches and sends."""
