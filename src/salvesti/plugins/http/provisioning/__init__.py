"""Phones that configure themselves: the files desk phones and softphones fetch from the web server.

One module per phone family writes that family's file from a :class:`settings.PhoneSettings`
(``yealink``, ``grandstream``, ``snom``, ``fanvil``, ``linphone``); ``families`` maps the file
names phones ask for to those writers; ``routes`` serves them (``/provision/...``) with the
guard against MAC guessing (``guard``), and the admin API that shows an extension's URLs, QR
code and hand-typed values.  The accounts come from sources that are a
``core.provisioning.PhoneDirectory``; nothing here imports a source.  See docs/provisioning.md.
"""
