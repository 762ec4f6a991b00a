"""Errors raised by the crypto layer. Messages never contain plaintext."""


class DecryptionError(Exception):
    """A stored value could not be decrypted or failed its integrity check.

    Carries where it happened (for the log) but never any content.
    """

    def __init__(self, reason: str, *, where: str = "", key_id: str = "") -> None:
        self.reason = reason
        self.where = where
        self.key_id = key_id
        super().__init__(f"{reason} (at {where or '?'}, key {key_id or '?'})")


class KeyFileError(Exception):
    """The master key file is missing, unsafe, malformed or does not match."""
