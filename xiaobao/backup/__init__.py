"""Encrypted backup and all-or-nothing restore: `xiaobao backup -o FILE`, `xiaobao restore FILE`."""
