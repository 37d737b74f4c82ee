"""Where each character of a rewritten report stood in the report as given (`Offsets`): the
extraction reads a report with glued labels spaced apart, broken words joined and OCR's two letters
for one read as one, and gives every span in the report as written."""

from __future__ import annotations

from bisect import bisect_right


class Offsets:
    """Where each character of a text rewritten by dropping or inserting characters stood in the
    text as given: one segment per edit (a character at `at` of the result stood at
    `old[k] + at - new[k]`, `k` the last segment starting at or before it), so a long report needs no
    list as long as itself. An inserted character is a segment of its own pointing where the next
    one stands. `then`: the offsets of the text this one was rewritten from, when that was rewritten
    too."""

    def __init__(self) -> None:
        self.new, self.old = [0], [0]
        self.then: Offsets | None = None

    def jump(self, new_at: int, old_at: int) -> None:
        """From `new_at` of the result on, the characters come from `old_at` on."""
        self.new.append(new_at)
        self.old.append(old_at)

    def __getitem__(self, at: int) -> int:
        k = bisect_right(self.new, at) - 1
        here = self.old[k] + at - self.new[k]
        return here if self.then is None else self.then[here]
