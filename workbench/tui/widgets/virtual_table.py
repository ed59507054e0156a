"""A virtualised table: holds only row ids, draws only the visible lines, fetches rows a page at a time.

DataTable keeps every row as widgets-worth of state (seconds for 100,000 rows); this one keeps a list
of ints and asks ``fetch(ids) -> {id: row tuple}`` for the page a visible line falls in.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from rich.cells import set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

Fetch = Callable[[Sequence[int]], dict[int, tuple]]


class VirtualTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"virtual-table--header", "virtual-table--cursor", "virtual-table--odd"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=True),
    ]
    DEFAULT_CSS = """
    VirtualTable { height: 1fr; }
    VirtualTable > .virtual-table--header { text-style: bold; background: $panel; }
    VirtualTable > .virtual-table--cursor { background: $accent 40%; }
    VirtualTable:focus > .virtual-table--cursor { background: $accent; color: $text; }
    VirtualTable > .virtual-table--odd { background: $surface-lighten-1 20%; }
    """

    cursor: reactive[int] = reactive(0, init=False)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, row_id: int | None):
            super().__init__()
            self.table = table
            self.row_id = row_id

    class Selected(Highlighted):
        pass

    def __init__(self, columns: Sequence[tuple[str, int]], fetch: Fetch, *, page_size: int = 100, **kwargs):
        super().__init__(**kwargs)
        self.columns = list(columns)
        self.fetch = fetch
        self.page_size = page_size
        self.ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, tuple]] = OrderedDict()
        self.fetches = 0  # pages read from the database (the benchmark reports it)

    # -- data --------------------------------------------------------------------------------------
    def set_ids(self, ids: Sequence[int]) -> None:
        self.ids = list(ids)
        self._pages.clear()
        self.virtual_size = Size(self.size.width, len(self.ids) + 1)
        self.set_reactive(VirtualTable.cursor, 0)
        self.scroll_to(y=0, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self, self.current_id))

    def invalidate(self) -> None:
        """Forget fetched rows (their labels changed); visible ones are fetched again."""
        self._pages.clear()
        self.refresh()

    @property
    def current_id(self) -> int | None:
        return self.ids[self.cursor] if 0 <= self.cursor < len(self.ids) else None

    def row(self, index: int) -> tuple | None:
        page = index // self.page_size
        rows = self._pages.get(page)
        if rows is None:
            chunk = self.ids[page * self.page_size : (page + 1) * self.page_size]
            rows = self.fetch(chunk)
            self.fetches += 1
            self._pages[page] = rows
            if len(self._pages) > 64:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page)
        return rows.get(self.ids[index])

    # -- drawing -----------------------------------------------------------------------------------
    def _cells(self, values: Sequence, width: int) -> str:
        parts, used = [], 0
        for i, (_, w) in enumerate(self.columns):
            last = i == len(self.columns) - 1
            cw = max(1, width - used) if last else w
            text = "" if i >= len(values) else str(values[i])
            parts.append(set_cell_size(text.replace("\n", " "), cw))
            used += cw + 1
        return " ".join(parts)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("virtual-table--header")
            return Strip([Segment(self._cells([c for c, _ in self.columns], width), style)], width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.ids):
            return Strip.blank(width, self.rich_style)
        row = self.row(index) or (self.ids[index], "…")
        if index == self.cursor:
            style = self.rich_style + self.get_component_rich_style("virtual-table--cursor")
        elif index % 2:
            style = self.rich_style + self.get_component_rich_style("virtual-table--odd")
        else:
            style = self.rich_style
        return Strip([Segment(self._cells(row, width), style)], width)

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.ids) + 1)

    # -- moving ------------------------------------------------------------------------------------
    def watch_cursor(self, old: int, new: int) -> None:
        body = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + body:
            self.scroll_to(y=new - body + 1, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self, self.current_id))

    def action_move(self, delta: int) -> None:
        if self.ids:
            self.cursor = max(0, min(len(self.ids) - 1, self.cursor + delta))

    def action_page(self, direction: int) -> None:
        self.action_move(direction * max(1, self.size.height - 2))

    def action_jump(self, where: int) -> None:
        if self.ids:
            self.cursor = where if where >= 0 else len(self.ids) - 1

    def action_select(self) -> None:
        if self.current_id is not None:
            self.post_message(self.Selected(self, self.current_id))

    def on_click(self, event: events.Click) -> None:
        if event.y <= 0:
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self.ids):
            if index == self.cursor and event.chain >= 2:
                self.action_select()
            self.cursor = index
