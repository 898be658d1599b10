"""Encryption at rest: a master key file, per-recording data keys, and the sealed file format.

``master``: the key file (``salvesti keys init``) and wrapping a data key with it;
``keyring``: the wrapped data keys, one per recording, kept in ``data_dir`` apart from the files;
``sealed``: a recording as AES-256-GCM chunks that can be read at any offset (HTTP Range).
"""
