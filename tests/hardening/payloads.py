"""Hostile request bodies, built from a valid request so that everything but the attack is right."""

from __future__ import annotations

import re
from collections.abc import Callable

from hypothesis import strategies as st

ENV_OPEN = re.compile(rb"<soap:Envelope[^>]*>")


def _after_decl(valid: bytes) -> bytes:
    return valid.split(b"?>", 1)[1] if valid.startswith(b"<?xml") else valid


def with_doctype(valid: bytes, doctype: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + doctype + _after_decl(valid)


def in_body_element(valid: bytes, text: bytes) -> bytes:
    """Put `text` as the content of the first `schooljaar` element (where a parser would expand it)."""
    return re.sub(rb"(<[a-z]+:schooljaar>)[^<]*(</)", lambda m: m.group(1) + text + m.group(2), valid, count=1)


def xxe_file(valid: bytes) -> bytes:
    return in_body_element(with_doctype(valid, b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
                           b"&xxe;")


def xxe_http(valid: bytes) -> bytes:
    return in_body_element(with_doctype(valid, b'<!DOCTYPE x [<!ENTITY xxe SYSTEM "http://127.0.0.1:9/x">]>'),
                           b"&xxe;")


def xxe_parameter(valid: bytes) -> bytes:
    return with_doctype(valid, b'<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/evil.dtd"> %p;]>')


def external_dtd(valid: bytes) -> bytes:
    return with_doctype(valid, b'<!DOCTYPE soap:Envelope SYSTEM "file:///etc/passwd">')


def billion_laughs(valid: bytes) -> bytes:
    ents = [b'<!ENTITY lol0 "lollollollollollollollollollol">']
    ents += [b"<!ENTITY lol%d \"%s\">" % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10))) for i in range(1, 10)]
    return in_body_element(with_doctype(valid, b"<!DOCTYPE x [" + b"".join(ents) + b"]>"), b"&lol9;")


def quadratic_blowup(valid: bytes) -> bytes:
    big = b"A" * 100_000
    doc = with_doctype(valid, b'<!DOCTYPE x [<!ENTITY a "' + big + b'">]>')
    return in_body_element(doc, b"&a;" * 100_000)


def utf16_doctype(valid: bytes) -> bytes:
    """A DOCTYPE the byte scan cannot see: the whole message in UTF-16."""
    doc = xxe_file(valid).replace(b'encoding="utf-8"', b'encoding="UTF-16"')
    return doc.decode("utf-8").encode("utf-16")


def utf16(valid: bytes) -> bytes:
    return valid.replace(b'encoding="utf-8"', b'encoding="UTF-16"').decode().encode("utf-16")


def utf16_undeclared(valid: bytes) -> bytes:
    return valid.decode().encode("utf-16-le")


def latin1_declared_utf8_bytes(valid: bytes) -> bytes:
    return in_body_element(valid.replace(b'encoding="utf-8"', b'encoding="ISO-8859-1"'),
                           "Zoë Çelik".encode())


def utf8_declared_latin1_bytes(valid: bytes) -> bytes:
    return in_body_element(valid, "Zoë Çelik".encode("latin-1"))


def invalid_utf8(valid: bytes) -> bytes:
    return in_body_element(valid, b"\xff\xfe\xc3\x28\xa0\xa1\xf0\x28\x8c\xbc")


def unknown_encoding(valid: bytes) -> bytes:
    return valid.replace(b'encoding="utf-8"', b'encoding="x-klingon"')


def ebcdic(valid: bytes) -> bytes:
    return valid.replace(b'encoding="utf-8"', b'encoding="cp500"').decode().encode("cp500")


def nul_bytes(valid: bytes) -> bytes:
    return in_body_element(valid, b"2026\x00-2027")


def processing_instructions(valid: bytes) -> bytes:
    pis = b'<?xml-stylesheet href="file:///etc/passwd"?><?php system("id"); ?>'
    return valid.replace(b"<soap:Body>", b"<soap:Body>" + pis, 1)


def comments_everywhere(valid: bytes) -> bytes:
    return valid.replace(b"><", b"><!-- x --><")


def cdata_in_key(valid: bytes) -> bytes:
    return re.sub(rb"(<aut:autorisatiesleutel>)([^<]*)", rb"\1<![CDATA[\2]]>", valid, count=1)


def huge_attribute(valid: bytes, size: int = 12 * 1024 * 1024) -> bytes:
    return valid.replace(b"<soap:Body>", b'<soap:Body x="' + b"A" * size + b'">', 1)


def many_attributes(valid: bytes, n: int = 100_000) -> bytes:
    attrs = b"".join(b' a%d="1"' % i for i in range(n))
    return valid.replace(b"<soap:Body>", b"<soap:Body" + attrs + b">", 1)


def many_namespaces(valid: bytes, n: int = 50_000) -> bytes:
    ns = b"".join(b' xmlns:n%d="urn:x:%d"' % (i, i) for i in range(n))
    return ENV_OPEN.sub(lambda m: m.group(0)[:-1] + ns + b">", valid, count=1)


def deep_nesting(valid: bytes, depth: int = 100_000) -> bytes:
    return valid.replace(b"</soap:Body>", b"<a>" * depth + b"</a>" * depth + b"</soap:Body>", 1)


def deep_nesting_unclosed(valid: bytes, depth: int = 300_000) -> bytes:
    return valid.replace(b"</soap:Body>", b"<a>" * depth, 1)


def wide_body(valid: bytes, n: int = 200_000) -> bytes:
    return valid.replace(b"</soap:Header>", b"</soap:Header>" + b"<x/>" * 0, 1).replace(
        b"</soap:Body>", b"<b/>" * n + b"</soap:Body>", 1)


def wide_body_at_cap(valid: bytes) -> bytes:
    """Just under the 20 MB cap, all markup: before the markup budget this parsed into ~1 GB of tree."""
    return wide_body(valid, (20 * 1024 * 1024 - len(valid)) // 4 - 16)


def utf7(valid: bytes) -> bytes:
    return valid.replace(b'encoding="utf-8"', b'encoding="UTF-7"')


def oversized(valid: bytes, size: int = 21 * 1024 * 1024) -> bytes:
    return valid.replace(b"</soap:Envelope>", b"<!--" + b"x" * size + b"--></soap:Envelope>", 1)


def long_text(valid: bytes, size: int = 8 * 1024 * 1024) -> bytes:
    return in_body_element(valid, b"9" * size)


def long_key(valid: bytes) -> bytes:
    return re.sub(rb"(<aut:autorisatiesleutel>)[^<]*", rb"\g<1>" + b"k" * 100_000, valid, count=1)


def many_headers(valid: bytes) -> bytes:
    block = re.search(rb"<aut:autorisatie .*?</aut:autorisatie>", valid, re.S)
    assert block is not None
    return valid.replace(block.group(0), block.group(0) * 5000, 1)


def soap12(valid: bytes) -> bytes:
    return valid.replace(b"http://schemas.xmlsoap.org/soap/envelope/", b"http://www.w3.org/2003/05/soap-envelope")


def truncated(valid: bytes) -> bytes:
    return valid[: len(valid) // 2]


def xinclude(valid: bytes) -> bytes:
    inc = b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
    return in_body_element(valid, inc)


def xsi_schema_location(valid: bytes) -> bytes:
    return ENV_OPEN.sub(
        lambda m: m.group(0)[:-1]
        + b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:x http://127.0.0.1:9/x.xsd">',
        valid, count=1)


def bom_and_whitespace(valid: bytes) -> bytes:
    return b"\xef\xbb\xbf" + valid


def leading_garbage(valid: bytes) -> bytes:
    return b"   \n\n" + valid


ATTACKS: dict[str, Callable[[bytes], bytes]] = {
    f.__name__: f for f in (
        xxe_file, xxe_http, xxe_parameter, external_dtd, billion_laughs, quadratic_blowup, utf16_doctype, utf16,
        utf16_undeclared, latin1_declared_utf8_bytes, utf8_declared_latin1_bytes, invalid_utf8, unknown_encoding,
        ebcdic, nul_bytes, processing_instructions, comments_everywhere, cdata_in_key, huge_attribute,
        many_attributes, many_namespaces, deep_nesting, deep_nesting_unclosed, wide_body, wide_body_at_cap, utf7,
        oversized, long_text,
        long_key, many_headers, soap12, truncated, xinclude, xsi_schema_location, bom_and_whitespace,
        leading_garbage,
    )
}
# Attacks whose answer may legitimately be a valid answer (the hostile part is harmless and ignored).
HARMLESS = {"utf16", "utf16_undeclared", "processing_instructions", "comments_everywhere", "cdata_in_key",
            "bom_and_whitespace", "leading_garbage", "xsi_schema_location", "many_namespaces",
            "latin1_declared_utf8_bytes", "many_attributes"}


# Byte-level mutations of a valid request (hypothesis): delete, insert, overwrite, duplicate a slice.
def _mutate(data: bytes, ops: list[tuple[int, int, bytes]]) -> bytes:
    buf = bytearray(data)
    for kind, pos, chunk in ops:
        if not buf:
            break
        i = pos % len(buf)
        if kind == 0:
            buf[i:i + 1] = b""
        elif kind == 1:
            buf[i:i] = chunk
        elif kind == 2:
            buf[i:i + len(chunk)] = chunk
        else:
            j = (pos * 7919) % len(buf)
            lo, hi = sorted((i, j))
            buf[lo:lo] = buf[lo:hi][:512]
    return bytes(buf)


MUTATIONS = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 10**6),
              st.one_of(st.binary(min_size=1, max_size=12),
                        st.sampled_from([b"<", b">", b"&", b"&amp;", b"]]>", b"<!--", b'"', b"'", b"</",
                                         b"xmlns:soap='urn:x'", b"\x00", b"\xff", b"&#0;", b"&#x1F;",
                                         b"<![CDATA[", b"<?pi?>", b"&unknown;"]))),
    min_size=1, max_size=8,
)
