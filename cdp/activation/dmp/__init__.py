"""Ad-platform (DMP) audience files, each in the platform's exact upload format.

Every platform normalises identifiers its own way before hashing, so each has its own
normalisers; invalid values are dropped and counted, never hashed. The writers are
deterministic (same input, byte-identical files) and return a manifest: files with size, MD5
and SHA-256, ids written and ids dropped by reason.

| platform | writer | file |
|---|---|---|
| Tencent Ads | ``write_tencent(ids, id_type, out_dir, app_id=None)`` | zip of txt, one id a line |
| Ocean Engine | ``write_oceanengine(ids, data_type, out_dir)`` | zip of base64 protobuf lines |
| Google Customer Match | ``write_google(rows, out_dir)`` | CSV ``Email,Phone`` (SHA-256) |
| Meta | ``write_meta(rows, out_dir)`` | CSV ``email,phone`` (SHA-256) |
"""

from cdp.activation.dmp.google import google_email, google_phone, write_google
from cdp.activation.dmp.meta import meta_email, meta_phone, write_meta
from cdp.activation.dmp.oceanengine import encode_dmp_line, oceanengine_id, write_oceanengine
from cdp.activation.dmp.tencent import tencent_id, write_tencent

__all__ = [
    "encode_dmp_line",
    "google_email",
    "google_phone",
    "meta_email",
    "meta_phone",
    "oceanengine_id",
    "tencent_id",
    "write_google",
    "write_meta",
    "write_oceanengine",
    "write_tencent",
]
