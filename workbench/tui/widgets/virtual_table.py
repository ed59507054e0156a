"""A virtualised table: holds only row ids, draws only the visible lines, fetches rows a page at a time.

DataTable keeps every row as widgets-worth of state (seconds for 100,000 rows); this one keeps a list
of ints and asks ``fetch(ids) -> {id: row tuple}`` for the page a visible line falls in. ``fetch``
runs in a thread worker (it reads the database): a line whose page is on its way shows ``…`` and is
drawn again when the page arrives; the page after the one in view is read ahead.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

from rich.cells import set_cell_size
from rich.segment import Segment
from textual import events, work
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

    class PageLoaded(Message, bubble=False):
        """A page of rows read by a worker (``generation`` tells pages of an older id list apart)."""

        def __init__(self, page: int, rows: dict[int, tuple], generation: int):
            super().__init__()
            self.page, self.rows, self.generation = page, rows, generation

    def __init__(self, columns: Sequence[tuple[str, int]], fetch: Fetch, *, page_size: int = 100, **kwargs):
        super().__init__(**kwargs)
        self.columns = list(columns)
        self.fetch = fetch
        self.page_size = page_size
        self.ids: list[int] = []
        self._pages: OrderedDict[int, dict[int, tuple]] = OrderedDict()
        self._requested: set[int] = set()  # pages a worker is reading
        self._generation = 0  # bumped when the ids change: pages read for older ids are dropped
        self.fetches = 0  # pages read from the database (the benchmark reports it)

    # -- data --------------------------------------------------------------------------------------
    def set_ids(self, ids: Sequence[int]) -> None:
        """Show these rows (ids in display order), from the top."""
        self.ids = list(ids)
        self._forget_pages()
        self.virtual_size = Size(self.size.width, len(self.ids) + 1)
        self.set_reactive(VirtualTable.cursor, 0)
        self.scroll_to(y=0, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self, self.current_id))

    def invalidate(self) -> None:
        """Forget fetched rows (their labels changed); visible ones are fetched again."""
        self._forget_pages()
        self.refresh()

    def _forget_pages(self) -> None:
        self._pages.clear()
        self._requested.clear()
        self._generation += 1

    @property
    def reading(self) -> bool:
        """Whether a page is being read."""
        return bool(self._requested)

    @property
    def current_id(self) -> int | None:
        """The id of the row under the cursor."""
        return self.ids[self.cursor] if 0 <= self.cursor < len(self.ids) else None

    def row(self, index: int) -> tuple | None:
        """The row at ``index``, or None while its page is being read (asked for here)."""
        page = index // self.page_size
        rows = self._pages.get(page)
        if index % self.page_size >= self.page_size * 0.7:
            self.request_page(page + 1)  # read ahead: scrolling down will need it soon
        if rows is None:
            self.request_page(page)
            return None
        self._pages.move_to_end(page)
        return rows.get(self.ids[index])

    def request_page(self, page: int) -> None:
        """Have a worker read ``page`` unless it is here, on its way or past the end."""
        if page in self._pages or page in self._requested or not 0 <= page * self.page_size < len(self.ids):
            return
        self._requested.add(page)
        self._read_page(page, self.ids[page * self.page_size : (page + 1) * self.page_size], self._generation)

    @work(thread=True, group="virtual-table-pages")
    def _read_page(self, page: int, ids: list[int], generation: int) -> None:
        self.post_message(self.PageLoaded(page, self.fetch(ids), generation))

    def on_virtual_table_page_loaded(self, message: PageLoaded) -> None:
        if message.generation != self._generation:
            return
        self._requested.discard(message.page)
        self._pages[message.page] = message.rows
        self.fetches += 1
        while len(self._pages) > 64:
            self._pages.popitem(last=False)
        self.refresh()

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
