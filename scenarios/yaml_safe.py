"""``load_yaml(text)``: YAML parsed with ``yaml.SafeLoader``, its expanded size and depth bounded.

An alias repeats its anchor's node wherever it is used, so a few hundred bytes of nested aliases
("billion laughs") expand to billions of values once anything walks the document (validation,
an error message, a JSON dump). The composed node graph is measured before anything is
constructed: a document whose tree, aliases expanded, holds more than ``max_nodes`` nodes or is
nested deeper than ``max_depth`` is refused, in time proportional to its text.
"""

from __future__ import annotations

from typing import Any

import yaml

#: Most nodes (scalars, sequences, mappings) a document may expand to, aliases counted each time
#: they are used. The largest bundled scenario has under 200.
MAX_NODES = 100_000
#: Deepest nesting of sequences and mappings a document may have, aliases expanded.
MAX_DEPTH = 100
#: Longest parser message kept in a problem (they quote at most a token or an alias name).
_MAX_MESSAGE = 120


class YamlLimitError(yaml.YAMLError):
    """A document over :data:`MAX_NODES` expanded nodes or :data:`MAX_DEPTH` levels."""


class YamlValueError(yaml.YAMLError):
    """A scalar the safe constructor cannot turn into a value (an impossible date, a huge int)."""


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses to compose nodes nested deeper than ``max_depth``."""

    def __init__(self, text: str, max_depth: int) -> None:
        super().__init__(text)
        self.max_depth = max_depth
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        try:
            if self.depth > self.max_depth:
                raise YamlLimitError(f"nested deeper than {self.max_depth} levels")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self.depth -= 1


def load_yaml(text: str, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> Any:
    """The one YAML document in ``text`` as Python data (safe tags only), size bounded.

    Raises :class:`YamlLimitError` for a document that expands past ``max_nodes`` nodes, nests
    deeper than ``max_depth`` or contains an alias of itself; ``yaml.YAMLError`` when the text is
    not YAML. :func:`yaml_problem` turns either into a message that quotes none of the text.
    """
    loader = _BoundedLoader(text, max_depth)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, max_nodes, max_depth)
        return loader.construct_document(node)
    except (ValueError, OverflowError) as error:  # a date such as 2026-02-30, a 5000-digit int
        raise YamlValueError("a date or number cannot be read (out of range)") from error
    except RecursionError as error:  # the composer recurses per level; a guard, not the rule
        raise YamlLimitError(f"nested deeper than {max_depth} levels") from error
    finally:
        loader.dispose()


def _measure(root: yaml.Node, max_nodes: int, max_depth: int) -> None:
    """Refuse a node graph whose expanded tree is too large, too deep or cyclic.

    Each distinct node is measured once (its expanded size and depth are remembered), so a
    graph of a few hundred nodes that expands to billions is refused after a few hundred steps.
    """
    sizes: dict[int, tuple[int, int]] = {}
    open_nodes: set[int] = set()

    def measure(node: yaml.Node, level: int) -> tuple[int, int]:
        if level > max_depth:
            raise YamlLimitError(f"nested deeper than {max_depth} levels (aliases expanded)")
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in open_nodes:
            raise YamlLimitError("an alias refers to a node that contains it")
        open_nodes.add(key)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        size, depth = 1, 1
        for child in children:
            child_size, child_depth = measure(child, level + 1)
            size += child_size
            depth = max(depth, child_depth + 1)
            if size > max_nodes:
                raise YamlLimitError(
                    f"expands to more than {max_nodes} values (aliases counted each time used)"
                )
        open_nodes.discard(key)
        sizes[key] = (size, depth)
        return size, depth

    measure(root, 1)


def yaml_problem(error: yaml.YAMLError) -> str:
    """A short message for a YAML error: what and where (line, column), never the text itself."""
    if isinstance(error, YamlLimitError):
        return f"the document is too large: {error}"
    if isinstance(error, YamlValueError):
        return f"not valid YAML: {error}"
    if isinstance(error, yaml.MarkedYAMLError):
        what = str(error.problem or error.context or "cannot be parsed")[:_MAX_MESSAGE]
        mark = error.problem_mark or error.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        return f"not valid YAML: {what}{where}"
    return "not valid YAML"
