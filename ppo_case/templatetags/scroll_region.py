"""`{% scroll_region %}…{% endscroll_region %}`: a wide table's own scroll box.

On a phone a table wider than the screen scrolls inside this box, not the whole page. The
box is focusable and labelled (`tabindex="0"`, `role="region"`, `aria-label`) so a keyboard
user can reach and scroll it (WCAG 2.1.1; axe `scrollable-region-focusable`), and it is
`position: relative` (frontend/app.scss `.app-scroll-region`) so the table's visually hidden
text stays inside it instead of widening the page. It is MoJ Frontend's scrollable pane
(`moj-scrollable-pane`: the shadows that show there is more to the side) with those fixes.

The label is the table's own caption unless one is given: `{% scroll_region "Actions" %}`.
Loaded with `{% load scroll_region %}` (settings TEMPLATES "libraries").
"""

from __future__ import annotations

import html
import re

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token
from django.utils.html import format_html, strip_tags
from django.utils.safestring import SafeString, mark_safe

register = template.Library()

CAPTION = re.compile(r"<caption\b[^>]*>(.*?)</caption>", re.IGNORECASE | re.DOTALL)
FALLBACK_LABEL = "Table"


def caption_text(content: str) -> str:
    """The words of the first <caption> in `content`, tags and extra spaces removed."""
    found = CAPTION.search(content)
    if not found:
        return ""
    return " ".join(html.unescape(strip_tags(found.group(1))).split())


class ScrollRegionNode(template.Node):
    def __init__(self, nodelist: NodeList, label: FilterExpression | None):
        self.nodelist = nodelist
        self.label = label

    def render(self, context: template.Context) -> SafeString:
        content = self.nodelist.render(context)
        label = str(self.label.resolve(context) or "") if self.label else ""
        label = " ".join(label.split()) or caption_text(content) or FALLBACK_LABEL
        return format_html(
            '<div class="moj-scrollable-pane app-scroll-region" tabindex="0" role="region"'
            ' aria-label="{}">{}</div>',
            label,
            mark_safe(content),  # noqa: S308 (the block's own rendered, autoescaped output)
        )


@register.tag("scroll_region")
def scroll_region(parser: Parser, token: Token) -> ScrollRegionNode:
    bits = token.split_contents()
    if len(bits) > 2:
        raise template.TemplateSyntaxError(
            f"{bits[0]} takes at most one argument, the region's label"
        )
    label = parser.compile_filter(bits[1]) if len(bits) == 2 else None
    nodelist = parser.parse(("endscroll_region",))
    parser.delete_first_token()
    return ScrollRegionNode(nodelist, label)
