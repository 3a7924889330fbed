from collections.abc import Callable, Sequence
from typing import Any

from lxml import etree

KINDS: dict[str, int]
LXML_VERSION: str

class Plan:
    def __init__(
        self,
        ns: str,
        item: str,
        ref_item: str,
        fields: Sequence[tuple[str, int, int, int, Any]],
        defaults: Sequence[Any],
        list_slots: Sequence[int],
        required: Sequence[int],
        cls: type,
        fromisoformat: Callable[[str], Any],
        parse_datetime: Callable[[str | None], Any],
        name_slots: Sequence[int] | None,
    ) -> None: ...
    def parse_all(self, container: etree._Element) -> list[Any] | None: ...
