"""UN/EDIFACT tokenizer: fast, streaming, and segment for segment the same as pydifact's parser.

pydifact reads one character at a time. This tokenizer works on whole blocks with C-level string
operations: line breaks after terminators dropped, the block split at its terminators and mended
where a terminator was released (found by walking the few release characters; when there are
many, released characters are hidden before splitting instead), and, when every piece is a plain
segment of a tag already seen, the block is handed on as a `RawBatch` of segment texts whose
elements are split only when someone asks. Anything unusual (a new tag, UNB, UNA, a release before
a line break, a syntax 4 repetition separator) is tokenized one segment at a time. Only the
unfinished tail of a block is carried over, so memory stays flat however long the interchange is,
and text without a segment terminator is stopped at `max_segment`. A differential test
(hypothesis) holds it to pydifact.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator

from gateway.formats.edifact.segment import (
    AFTER_TAG,
    CHARSET_RULES,
    CHARSETS,
    DEFAULT,
    LINE_BREAKS,
    TAG,
    Delimiters,
    Element,
    RawBatch,
    Segment,
    SyntaxFault,
    Unescaper,
    composite,
    ends_released,
    parse_una,
    plain_splitter,
    split_escaped,
    valid_tag,
)

__all__ = [
    "CHARSETS", "CHARSET_RULES", "DEFAULT", "TAG", "Delimiters", "Element", "RawBatch", "Scanner",
    "Segment", "SyntaxFault", "parse_una", "split_escaped",
]  # fmt: skip


class Scanner:
    """Splits a stream of text blocks into segments, switching delimiters at each UNA.

    Set `repetition` (syntax 4) once UNB is known; it applies to the segments after it.
    """

    def __init__(self, blocks: Iterable[str], *, max_segment: int = 1 << 20) -> None:
        self.blocks = iter(blocks)
        self.max_segment = max_segment
        self.delimiters = DEFAULT
        self.una: Delimiters | None = None
        self.repetition: str | None = None
        self.index = 0
        self._unescape = Unescaper(DEFAULT.release)
        self._valid_tags: set[str] = set()
        self._splitter = plain_splitter(DEFAULT)

    def use(self, delimiters: Delimiters) -> None:
        """Tokenize what follows with `delimiters` (a UNA was read)."""
        self.delimiters = delimiters
        self._unescape = Unescaper(delimiters.release)
        self._splitter = plain_splitter(delimiters)

    def __iter__(self) -> Iterator[Segment]:
        for batch in self.batches():
            if isinstance(batch, RawBatch):
                split, release = self._splitter, self.delimiters.release
                for i, raw in enumerate(batch.raws):
                    if release in raw:
                        yield self.parse(raw, batch.base + i)
                    else:
                        yield Segment(raw[:3], None, batch.base + i, raw, None, split)
            else:
                yield from batch

    def batches(self) -> Iterator[list[Segment] | RawBatch]:
        """The segments, a block's worth at a time (one list per block read)."""
        buffer = ""
        exhausted = False
        fresh = True  # read a block before splitting again
        while True:
            if not exhausted and fresh:
                block = next(self.blocks, None)
                if block is None:
                    exhausted = True
                else:
                    buffer += block
            buffer = self._skip_breaks(buffer, exhausted)
            if buffer.startswith("UNA") or (not exhausted and "UNA".startswith(buffer) and buffer):
                if len(buffer) < 12 and not exhausted:
                    fresh = True
                    continue
                parsed = parse_una(buffer)
                if parsed is None:
                    self.index += 1
                    raise SyntaxFault("the UNA service string advice is incomplete", self.index, buffer[:9])
                self.una, length = parsed
                self.use(self.una)
                self.index += 1
                yield [Segment("UNA", [self.una.una[3:]], self.index, buffer[:length])]
                buffer = buffer[length:]
                fresh = not buffer
                continue
            fresh = True
            terminator = self.delimiters.terminator
            pieces, release_before_break = self._split(buffer)
            buffer = pieces.pop()
            if len(buffer) > self.max_segment:
                raise SyntaxFault(
                    f"no segment terminator {terminator!r} in the next {self.max_segment} characters",
                    self.index + 1,
                    buffer[:40],
                )
            rest = None
            if self.repetition or release_before_break:
                batch, rest = self._one_by_one(pieces, exhausted)
                if batch:
                    yield batch
            else:
                rest = yield from self._mixed(pieces, exhausted)
            if rest is not None:
                buffer = rest + terminator + buffer
                fresh = False
                continue
            if exhausted:
                if buffer.strip(LINE_BREAKS):
                    raise SyntaxFault(
                        "the file ends inside a segment (no segment terminator)",
                        self.index + 1,
                        buffer[:40],
                    )
                return

    def _split(self, text: str) -> tuple[list[str], bool]:
        """`text` split at its real terminators, with the line breaks laid out after them dropped
        (the last piece is unfinished); and whether a release character stands before a line
        break, which only tokenizing one segment at a time reports as pydifact does."""
        d = self.delimiters
        terminator, release = d.terminator, d.release
        if release + terminator not in text:  # every terminator is real
            return _drop_layout(text, terminator).split(terminator), release + "\n" in text
        if text.count(release) <= max(16, len(text) >> 8):
            # Few releases: find the released terminators and mend the pieces split there.
            found = _released(text, terminator, release)
            if found is not None:
                before_break = found[1]
                if "\n" in text:
                    text = _drop_layout(text, terminator)
                    found = _released(text, terminator, release)
                    assert found is not None
                return _mend(text.split(terminator), text, found[0], terminator), before_break
        if any(c in text for c in "\x00\x01\x02"):
            return self._rejoin(text.split(terminator), d), release + "\n" in text
        # Hide released releases and terminators, so that every terminator left is real.
        text = text.replace(release + release, "\x01").replace(release + terminator, "\x02")
        text = _drop_layout(text, terminator).replace(terminator, "\x00")
        text = text.replace("\x01", release + release).replace("\x02", release + terminator)
        return text.split("\x00"), release + "\n" in text

    def _mixed(
        self, pieces: list[str], exhausted: bool
    ) -> Generator[list[Segment] | RawBatch, None, str | None]:
        """Plain runs as raw batches, the odd segment (UNB, new tags, releases) one by one."""
        d = self.delimiters
        valid, seps = self._valid_tags, (d.data, "")
        tags = list(map(TAG, pieces))
        seen = set(tags)
        for tag in seen.difference(valid):
            if tag not in ("UNA", "UNB") and valid_tag(tag):
                valid.add(tag)
        if valid.issuperset(seen) and set(seps).issuperset(map(AFTER_TAG, pieces)):
            self.index += len(pieces)
            yield RawBatch(self.index - len(pieces) + 1, pieces, tags)
            return None
        start = 0
        for i, piece in enumerate(pieces):
            if piece[:3] in valid and piece[3:4] in seps and not self.repetition:
                continue
            if i > start:
                self.index += i - start
                yield RawBatch(self.index - (i - start) + 1, pieces[start:i])
            batch, rest = self._one_by_one([piece], exhausted)
            if rest is not None:
                return d.terminator.join([rest, *pieces[i + 1 :]])
            yield batch
            start = i + 1
            if self.repetition:
                batch, rest = self._one_by_one(pieces[start:], exhausted)
                if batch:
                    yield batch
                return rest
        if start < len(pieces):
            self.index += len(pieces) - start
            yield RawBatch(self.index - (len(pieces) - start) + 1, pieces[start:])
        return None

    def _one_by_one(self, pieces: list[str], exhausted: bool) -> tuple[list[Segment], str | None]:
        """Tokenize pieces one at a time; stop at a UNA and return the text from there on."""
        d = self.delimiters
        release = d.release
        valid, split, seps = self._valid_tags, self._splitter, (d.data, "")
        batch: list[Segment] = []
        append = batch.append
        for n, raw_piece in enumerate(pieces):
            piece = raw_piece.lstrip(LINE_BREAKS)
            if piece[:3] in valid and piece[3:4] in seps and not self.repetition and release not in piece:
                self.index += 1
                append(Segment(piece[:3], None, self.index, piece, None, split))
                continue
            if piece[:1] == release:
                piece = self._skip_breaks(piece, True)
            if piece.startswith("UNA"):
                # A new interchange with its own service characters: re-split the rest.
                return batch, self._skip_breaks(d.terminator.join(pieces[n:]), exhausted)
            append(self.segment(piece))
        return batch, None

    def _skip_breaks(self, text: str, final: bool) -> str:
        stripped = text.lstrip(LINE_BREAKS)
        release = self.delimiters.release
        # pydifact also skips a released blank after a terminator, and fails on a released newline.
        while stripped[:1] == release and len(stripped) > 1 and stripped[1] in LINE_BREAKS:
            if stripped[1] == "\n":
                raise SyntaxFault("a release character before a line break", self.index + 1, stripped[:40])
            stripped = stripped[2:].lstrip(LINE_BREAKS)
        if stripped == release and not final:
            return text  # wait for the released character
        return stripped

    @staticmethod
    def _rejoin(pieces: list[str], d: Delimiters) -> list[str]:
        release, terminator = d.release, d.terminator
        out: list[str] = []
        carry: str | None = None
        for piece in pieces:
            if carry is not None:
                piece = carry + terminator + piece  # noqa: PLW2901
            if piece.endswith(release) and ends_released(piece, release):
                carry = piece
                continue
            carry = None
            out.append(piece)
        if carry is not None:
            out.append(carry)
        return out

    def segment(self, raw: str) -> Segment:
        """Tokenize the next segment's text (without its terminator)."""
        self.index += 1
        segment = self.parse(raw, self.index)
        if segment.tag == "UNB":
            self._on_unb(segment)
        elif self.delimiters.release not in raw:
            self._valid_tags.add(segment.tag)
        return segment

    def parse(self, raw: str, index: int) -> Segment:
        """A segment from its text, under the current service characters; no side effects."""
        d = self.delimiters
        if d.release in raw:
            return self._released(raw, index)
        parts = raw.split(d.data)
        tag = parts[0]
        if not valid_tag(tag):
            raise SyntaxFault(self._bad_tag(tag), index, raw[:40])
        del parts[0]
        comp = d.component
        segment = Segment(tag, [composite(p.split(comp)) if comp in p else p for p in parts], index, raw)
        if self.repetition and tag != "UNB" and self.repetition in raw:
            self._split_repeats(segment, parts)
        return segment

    def _on_unb(self, unb: Segment) -> None:
        """Syntax 4 has a repetition separator: UNA's fifth character, else `*`."""
        if unb.get(0, 1) == "4":
            rep = self.una.reserved if self.una else "*"
            self.repetition = rep if rep.strip() else None
        else:
            self.repetition = None

    def _released(self, text: str, index: int) -> Segment:
        d = self.delimiters
        if d.release + "\n" in text and not _all_released_pairs_ok(text, d.release):
            raise SyntaxFault("a release character before a line break", index, text[:40])
        parts = split_escaped(text, d.data, d.release)
        unescape = self._unescape
        tag = unescape(parts[0])
        if not valid_tag(tag) or d.component in parts[0]:
            raise SyntaxFault(self._bad_tag(tag), index, text[:40])
        elements: list[Element] = []
        for whole in parts[1:]:
            part = split_escaped(whole, self.repetition, d.release)[0] if self.repetition else whole
            components = split_escaped(part, d.component, d.release)
            elements.append(composite([unescape(c) for c in components]))
        if ends_released(text, d.release):
            raise SyntaxFault("the segment ends in a release character", index, text[:40])
        segment = Segment(tag, elements, index, text)
        if tag != "UNB" and self.repetition and self.repetition in text:
            self._split_repeats(segment, parts[1:])
        return segment

    def _split_repeats(self, segment: Segment, parts: list[str]) -> None:
        d = self.delimiters
        assert self.repetition is not None
        repeats: dict[int, list[Element]] = {}
        for i, part in enumerate(parts):
            reps = split_escaped(part, self.repetition, d.release)
            if len(reps) > 1:
                values = [
                    composite([self._unescape(c) for c in split_escaped(r, d.component, d.release)])
                    for r in reps
                ]
                segment.elements[i] = values[0]
                repeats[i] = values[1:]
        segment.repeats = repeats or None

    @staticmethod
    def _bad_tag(tag: str) -> str:
        if not tag:
            return "a segment without a tag (an empty segment or a misplaced separator)"
        return f"{tag[:20]!r} is not a segment tag (three upper-case letters or digits)"


def _drop_layout(text: str, terminator: str) -> str:
    """`text` without the line breaks right after its terminators, all of which must be real."""
    if "\n" not in text:
        return text
    if "\r" in text:
        text = text.replace(terminator + "\r\n", terminator)
    return text.replace(terminator + "\n", terminator)


def _released(text: str, terminator: str, release: str) -> tuple[list[int], bool] | None:
    """Where `text` has released terminators, and whether a release stands before a line break;
    None when a released terminator is followed by a line break (the layout is ambiguous).

    A release character always takes the next character with it, so the walk goes in pairs."""
    at: list[int] = []
    before_break = False
    i = text.find(release)
    while i != -1:
        after = text[i + 1 : i + 2]
        if after == terminator:
            if text[i + 2 : i + 3] in ("\r", "\n"):
                return None
            at.append(i + 1)
        elif after == "\n":
            before_break = True
        i = text.find(release, i + 2)
    return at, before_break


def _mend(pieces: list[str], text: str, released: list[int], terminator: str) -> list[str]:
    """`pieces` (`text` split at every terminator) joined again at the `released` positions."""
    mended: list[str] = []
    done = count = 0  # pieces taken over; terminators before `position`
    position = 0
    for at in released:
        count += text.count(terminator, position, at)
        position = at + 1
        if count >= done:  # a new run of mended pieces starts here
            mended += pieces[done:count]
            mended.append(pieces[count])
        mended[-1] += terminator + pieces[count + 1]
        done = count + 2
        count += 1
    mended += pieces[done:]
    return mended


def _all_released_pairs_ok(text: str, release: str) -> bool:
    """False when a release character that is not itself released stands before a newline."""
    i = text.find(release)
    while i != -1:
        if text[i + 1 : i + 2] == "\n":
            return False
        i = text.find(release, i + 2)
    return True
