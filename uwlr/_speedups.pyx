# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Optional compiled fast path for the bulk of a HaalLeerlinggegevens answer: the pupil records.

The pure-Python parser in `uwlr.leerlinggegevens` is the reference and stays the only one that reports errors.
This module reads the libxml2 tree that the hardened parser built (through lxml's public C API, so no other XML
code is involved) and handles only the plain case. Whenever anything is unusual — an unknown or misplaced
element, a CDATA section, a foreign attribute, a value that fails its check — it returns None and the caller
runs the pure-Python parser over the same records, which either accepts them or raises the precise
`OngeldigAntwoord`. So its contract is one-sided and testable: when it returns a list, that list equals what the
pure-Python parser returns (tests/uwlr/test_speedups.py checks this over generated and mutated answers).

Why it exists: walking tens of thousands of records through lxml's Python API costs a proxy object and a fresh
tag string per element; here the walk reads the tree's own structs and only creates the values themselves.
"""

from cpython.unicode cimport PyUnicode_DecodeUTF8, PyUnicode_GET_LENGTH
from libc.string cimport strcmp, strlen

from lxml.includes cimport tree
from lxml.includes.etreepublic cimport LXML_VERSION_STRING, _Element, import_lxml__etree

import_lxml__etree()

# The record parser's kinds (uwlr.leerlinggegevens: _STR, _ENUM, ... in that order); checked by `Plan`'s caller.
cdef enum:
    K_STR = 0
    K_ENUM = 1
    K_DATE = 2
    K_DATETIME = 3
    K_INT_ENUM = 4
    K_PATTERN = 5
    K_REF = 6
    K_REFS = 7
    K_SKIP = 11
    K_TEXT = 12
    MAX_FIELDS = 64
    MAX_KEY = 256

# For the caller to check that its kind numbers are the ones compiled in here.
KINDS = {"STR": K_STR, "ENUM": K_ENUM, "DATE": K_DATE, "DATETIME": K_DATETIME, "INT_ENUM": K_INT_ENUM,
         "PATTERN": K_PATTERN, "REF": K_REF, "REFS": K_REFS, "SKIP": K_SKIP, "TEXT": K_TEXT}
# lxml's C structs as compiled against; another lxml at run time means the pure-Python parser is used.
LXML_VERSION = LXML_VERSION_STRING.decode()


cdef inline bint _is_element_in(tree.xmlNode* c_node, const char* href):
    return (
        c_node.type == tree.XML_ELEMENT_NODE
        and c_node.ns is not NULL
        and c_node.ns.href is not NULL
        and strcmp(<const char*>c_node.ns.href, href) == 0
    )


cdef inline tree.xmlNode* _skip_text(tree.xmlNode* c_node):
    """`c_node` or the first node after it that is not text: stray text between elements is ignored, as the
    pure-Python parser (which iterates elements only) ignores it."""
    while c_node is not NULL and (c_node.type == tree.XML_TEXT_NODE or c_node.type == tree.XML_CDATA_SECTION_NODE):
        c_node = c_node.next
    return c_node


cdef inline object _single_text(tree.xmlNode* c_child):
    """The text of a content that is exactly one non-empty text node (starting at `c_child`), else None."""
    if c_child is NULL or c_child.next is not NULL or c_child.type != tree.XML_TEXT_NODE:
        return None
    if c_child.content is NULL or c_child.content[0] == 0:
        return None
    return PyUnicode_DecodeUTF8(<const char*>c_child.content, strlen(<const char*>c_child.content), NULL)


cdef inline object _only_text(tree.xmlNode* c_node):
    """The element's text when its whole content is one non-empty text node, else None (the caller bails)."""
    return _single_text(c_node.children)


cdef inline bint _has_element_child(tree.xmlNode* c_node):
    """Anything lxml would list as a child (element, comment, PI, entity reference): `len(el) != 0`."""
    cdef tree.xmlNode* c_child = c_node.children
    while c_child is not NULL:
        if c_child.type != tree.XML_TEXT_NODE and c_child.type != tree.XML_CDATA_SECTION_NODE:
            return True
        c_child = c_child.next
    return False


cdef inline object _attr_text(tree.xmlAttr* c_attr):
    """An attribute's value when it is one text of 1-256 characters, else None."""
    value = _single_text(c_attr.children)
    if value is None or PyUnicode_GET_LENGTH(value) > MAX_KEY:
        return None
    return value


cdef inline object _only_key(tree.xmlNode* c_node):
    """A reference element's key: exactly one attribute, unprefixed `key`, 1-256 characters, no child elements."""
    cdef tree.xmlAttr* c_attr = c_node.properties
    if c_attr is NULL or c_attr.next is not NULL or c_attr.ns is not NULL:
        return None
    if strcmp(<const char*>c_attr.name, b"key") != 0 or _has_element_child(c_node):
        return None
    return _attr_text(c_attr)


cdef class Plan:
    """One record type's fields in wire order, prepared for the C walk (built once, at import)."""

    cdef bytes ns
    cdef bytes item
    cdef bytes ref_item
    cdef list names          # keeps the bytes alive that c_names points into
    cdef const char* c_names[MAX_FIELDS]
    cdef int orders[MAX_FIELDS]
    cdef int slots[MAX_FIELDS]
    cdef int kinds[MAX_FIELDS]
    cdef Py_ssize_t maxlens[MAX_FIELDS]  # K_STR's length limit
    cdef list args
    cdef int count
    cdef list defaults
    cdef tuple list_slots
    cdef tuple required
    cdef object cls
    cdef object fromisoformat
    cdef object parse_datetime
    cdef int name_slots[5]   # achternaam, voorvoegsel, voornamen, voorletters, roepnaam; -1: no name rule

    def __init__(self, ns, item, ref_item, fields, defaults, list_slots, required, cls, fromisoformat,
                 parse_datetime, name_slots):
        """`fields`: (local name, order, slot, kind, arg) in wire order, as the pure-Python spec table has them."""
        cdef int i
        if len(fields) > MAX_FIELDS:
            raise ValueError("too many fields for the compiled plan")
        self.ns = ns.encode()
        self.item = item.encode()
        self.ref_item = ref_item.encode()
        self.names = []
        self.args = []
        self.count = len(fields)
        for i, (name, order, slot, kind, arg) in enumerate(fields):
            if kind not in (K_STR, K_ENUM, K_DATE, K_DATETIME, K_INT_ENUM, K_PATTERN, K_REF, K_REFS, K_SKIP, K_TEXT):
                raise ValueError(f"kind {kind} of {name!r} is not handled by the compiled plan")
            encoded = name.encode()
            self.names.append(encoded)
            self.c_names[i] = <const char*>(<bytes>self.names[i])
            self.orders[i] = order
            self.slots[i] = slot
            self.kinds[i] = kind
            self.maxlens[i] = arg if kind == K_STR else 0
            self.args.append(arg)
        self.defaults = list(defaults)
        self.list_slots = tuple(list_slots)
        self.required = tuple(required)
        self.cls = cls
        self.fromisoformat = fromisoformat
        self.parse_datetime = parse_datetime
        for i in range(5):
            self.name_slots[i] = name_slots[i] if name_slots is not None else -1

    def parse_all(self, _Element container not None):
        """The records under `container`, or None when the pure-Python parser must decide."""
        cdef tree.xmlNode* c_item = _skip_text(container._c_node.children)
        cdef tree.xmlNode* c_child
        cdef tree.xmlNode* c_ref
        cdef tree.xmlAttr* c_attr
        cdef const char* ns = self.ns
        cdef const char* item = self.item
        cdef const char* ref_item = self.ref_item
        cdef int i, start, last, kind, slot
        cdef list out = []
        cdef list values
        cdef dict dates = {}
        cdef list args = self.args
        cdef list defaults = self.defaults
        cdef object cls = self.cls
        while c_item is not NULL:
            if not _is_element_in(c_item, ns) or strcmp(<const char*>c_item.name, item) != 0:
                return None
            values = defaults[:]
            for i in self.list_slots:
                values[i] = []
            c_attr = c_item.properties
            while c_attr is not NULL:
                if c_attr.ns is not NULL:
                    return None
                value = _attr_text(c_attr)
                if value is None:
                    return None
                if strcmp(<const char*>c_attr.name, b"key") == 0:
                    values[0] = value
                elif strcmp(<const char*>c_attr.name, b"eckid") == 0:
                    values[1] = value
                else:
                    return None
                c_attr = c_attr.next
            last = 0
            start = 0
            c_child = _skip_text(c_item.children)
            while c_child is not NULL:
                if not _is_element_in(c_child, ns):
                    return None
                # fields come in wire order: search forward from the last match
                i = start
                while i < self.count and strcmp(<const char*>c_child.name, self.c_names[i]) != 0:
                    i += 1
                if i == self.count or self.orders[i] <= last:
                    return None
                last = self.orders[i]
                start = i + 1
                kind = self.kinds[i]
                slot = self.slots[i]
                if kind == K_STR:
                    text = _only_text(c_child)
                    if text is None or PyUnicode_GET_LENGTH(text) > self.maxlens[i]:
                        return None
                    values[slot] = text
                elif kind == K_DATE:
                    text = _only_text(c_child)
                    if text is None:
                        return None
                    value = dates.get(text)
                    if value is None:
                        if PyUnicode_GET_LENGTH(text) != 10 or text[4] != "-" or text[7] != "-":
                            return None
                        try:
                            value = self.fromisoformat(text)
                        except ValueError:
                            return None
                        dates[text] = value
                    values[slot] = value
                elif kind == K_ENUM:
                    text = _only_text(c_child)
                    if text is None or text not in args[i]:
                        return None
                    values[slot] = text
                elif kind == K_INT_ENUM:
                    text = _only_text(c_child)
                    value = (<dict>args[i]).get(text) if text is not None else None
                    if value is None:
                        return None
                    values[slot] = value
                elif kind == K_REF:
                    value = _only_key(c_child)
                    if value is None:
                        return None
                    values[slot] = value
                elif kind == K_REFS:
                    refs = []
                    c_ref = _skip_text(c_child.children)
                    while c_ref is not NULL:
                        if not _is_element_in(c_ref, ns) or strcmp(<const char*>c_ref.name, ref_item) != 0:
                            return None
                        value = _only_key(c_ref)
                        if value is None:
                            return None
                        refs.append(value)
                        c_ref = _skip_text(c_ref.next)
                    if not refs:
                        return None
                    values[slot] = refs
                elif kind == K_DATETIME:
                    text = _only_text(c_child)
                    value = self.parse_datetime(text) if text is not None else None
                    if value is None:
                        return None
                    values[slot] = value
                elif kind == K_PATTERN:
                    text = _only_text(c_child)
                    if text is None or not args[i](text):
                        return None
                    values[slot] = text
                elif kind == K_TEXT:
                    if c_child.children is NULL:
                        values[slot] = ""
                    else:
                        text = _only_text(c_child)
                        if text is None:
                            return None
                        values[slot] = text
                # K_SKIP: supplier extensions, not looked into (as in the pure-Python parser)
                c_child = _skip_text(c_child.next)
            for i in self.required:
                if values[i] is None:
                    return None
            if self.name_slots[0] >= 0 and values[self.name_slots[0]] is None and (
                values[self.name_slots[4]] is None
                or values[self.name_slots[1]] is not None
                or values[self.name_slots[2]] is not None
                or values[self.name_slots[3]] is not None
            ):
                return None
            out.append(cls(*values))
            c_item = _skip_text(c_item.next)
        return out
