"""Backup keys: one key per owner for database backups, each deletable on its own.

A backup (`flask --app journal backup`) wraps every data key in its copy with the
owner's backup key instead of the master key; a restore unwraps with it and wraps
again with the master key of the day. Erasing a patient deletes their backup key,
so no backup taken before the erasure can be opened for them with the keys that
exist after it, while every other owner's data in those backups stays readable.

The backup keys are the leaves of a binary tree of keys over the 128 bits of the
owner's id (a GGM tree, a "puncturable" pseudo-random function): each node's two
children are HMAC-SHA256 of the node under the labels 0 and 1, so a node derives
every leaf below it and nothing else. The file keeps the fewest nodes that derive
every leaf still allowed: at first only the root. Forgetting an owner replaces the
one stored node above their leaf by the siblings of the path down to it (at most
128 nodes, about 10 KB): every other leaf can still be derived, theirs by nobody.
So the file changes only when someone is erased (or the tree is replaced), never
when a backup is taken or a patient is added: a copy of the key folder made after
`init` opens every later backup.

The file (`backup-keys.json`, beside the master key file, same permissions) is as
secret as the master key file: with a backup it opens what the backup holds. Every
change to it is made under the key folder's lock (journal/crypto/folder.py), which
holds across servers that share the folder, and written atomically.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from journal.crypto.errors import KeyFileError
from journal.crypto.folder import locked
from journal.crypto.keys import KEY_BYTES, _require_private, write_private_json

FILE_NAME = "backup-keys.json"
_FILE_FORMAT = 1
_DEPTH = 128  # the bits of an owner's id
_CHILD_LABEL = b"kapj-backup-tree-v1|"
_LEAF_LABEL = b"kapj-backup-wrap-v1"


def _child(node: bytes, bit: str) -> bytes:
    return hmac.new(node, _CHILD_LABEL + bit.encode(), hashlib.sha256).digest()


def _path(owner: uuid.UUID) -> str:
    return format(owner.int, f"0{_DEPTH}b")


@dataclass(frozen=True)
class BackupKeys:
    """The tree's id (recorded in each backup it sealed) and its stored nodes, each
    under the bits of the path to it ("" is the root)."""

    tree_id: str
    nodes: dict[str, bytes]

    def _cover(self, path: str) -> str | None:
        """The stored node above a leaf, if any (stored nodes never overlap)."""
        for depth in range(_DEPTH + 1):
            if path[:depth] in self.nodes:
                return path[:depth]
        return None

    def key_for(self, owner: uuid.UUID) -> bytes | None:
        """The owner's backup key (an AES key-wrap key), or None once forgotten."""
        path = _path(owner)
        prefix = self._cover(path)
        if prefix is None:
            return None
        node = self.nodes[prefix]
        for bit in path[len(prefix) :]:
            node = _child(node, bit)
        return hmac.new(node, _LEAF_LABEL, hashlib.sha256).digest()

    def forget(self, owners: Iterable[uuid.UUID]) -> BackupKeys:
        """The same tree without these owners' leaves (those already gone are skipped)."""
        nodes = dict(self.nodes)
        for owner in owners:
            path = _path(owner)
            prefix = BackupKeys(self.tree_id, nodes)._cover(path)
            if prefix is None:
                continue
            node = nodes.pop(prefix)
            for depth in range(len(prefix), _DEPTH):
                bit = path[depth]
                other = "1" if bit == "0" else "0"
                nodes[path[:depth] + other] = _child(node, other)
                node = _child(node, bit)
        return BackupKeys(self.tree_id, nodes)

    @classmethod
    def new(cls) -> BackupKeys:
        return cls("bt-" + secrets.token_hex(8), {"": secrets.token_bytes(KEY_BYTES)})

    @classmethod
    def load(cls, path: Path) -> BackupKeys:
        """Read and check the file; refuse unsafe permissions."""
        if not path.exists():
            raise KeyFileError(
                f"backup key file {path} is missing; run 'flask --app journal init' "
                "(or put back the key folder the backup was taken with)"
            )
        _require_private(path.parent, 0o700, "key directory")
        _require_private(path, 0o600, "backup key file")
        try:
            data = json.loads(path.read_text())
            if data.get("format") != _FILE_FORMAT:
                raise ValueError("unknown format")
            tree = str(data["tree"])
            nodes = {str(p): base64.b64decode(k, validate=True) for p, k in data["nodes"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyFileError(f"backup key file {path} is malformed: {exc}") from None
        if any(
            len(p) > _DEPTH or set(p) - {"0", "1"} or len(k) != KEY_BYTES for p, k in nodes.items()
        ):
            raise KeyFileError(f"backup key file {path} is malformed: bad node")
        return cls(tree, nodes)

    def save(self, path: Path) -> None:
        """Write atomically with owner-only permissions."""
        body = {
            "format": _FILE_FORMAT,
            "tree": self.tree_id,
            "nodes": {p: base64.b64encode(k).decode() for p, k in sorted(self.nodes.items())},
        }
        write_private_json(path, body)


def create_backup_keys(path: Path, *, replace: bool = False) -> BackupKeys:
    """A new tree; never overwrites an existing file unless told to (which makes
    every backup sealed with the old tree unreadable)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with locked(path.parent):
        if path.exists() and not replace:
            raise KeyFileError(f"refusing to overwrite existing backup key file {path}")
        keys = BackupKeys.new()
        keys.save(path)
    return keys


def forget_owners(path: Path, owners: Iterable[uuid.UUID]) -> int:
    """Delete these owners' backup keys from the file; returns how many were still
    there. Without a file there is nothing to delete (no backup was sealed with it)."""
    wanted = list(owners)
    if not wanted or not path.exists():
        return 0
    with locked(path.parent):
        keys = BackupKeys.load(path)
        present = [o for o in set(wanted) if keys.key_for(o) is not None]
        if present:
            keys.forget(present).save(path)
    return len(present)
