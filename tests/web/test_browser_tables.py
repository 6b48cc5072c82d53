"""A desktop's tables keep their words whole (the crawl of stop 46 found "Deliv|ered", "Days overd|ue" and
"2020-10-|20" on the supervisor's and inspector's English pages): a column is never narrower than its
longest word; only hashes and codes may wrap anywhere."""
from __future__ import annotations

BROKEN_WORDS = """() => {
  const broken = [];
  for (const cell of document.querySelectorAll('main th, main td')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('code, .hash')) continue;
      for (const m of node.textContent.matchAll(/[\\x21-\\x7e]+/g)) {   // a Latin word or a date (CJK wraps anywhere)
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return broken;
}"""


def test_a_desktops_english_tables_keep_their_words_whole(desktop, demo_home):
    pages = {"supervisor": ["/supervise/overdue", "/supervise/alerts"],
             "inspector": ["/inspect/activity", "/inspect/events?seqs=1,2,3,4,5", "/inspect/trace/person/county_director"]}
    for kind, paths in pages.items():
        desktop.page.context.clear_cookies()
        desktop.sign_in(*demo_home[1][kind])
        desktop.go("/lang/en?next=/")
        for path in paths:
            page = desktop.go(path)
            assert page.locator("main table").count() > 0, path
            assert page.evaluate(BROKEN_WORDS) == [], path
            # a post's name is kept on one line whatever the column's width (Third-|party broke when other rows
            # squeezed the person's column, depending on what earlier tests had recorded)
            assert page.evaluate("[...document.querySelectorAll('main td .role')].every("
                                 "s => getComputedStyle(s).whiteSpace === 'nowrap')"), path
            assert page.evaluate("document.documentElement.scrollWidth") <= 1280, path    # and none wider than the screen
    desktop.shot("tables-en-inspector-activity")
