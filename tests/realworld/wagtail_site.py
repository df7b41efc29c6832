"""``python -m tests.realworld.wagtail_site``: does the Wagtail site in ``WT_DEFAULT_URL`` work?

Creates a page under the default site's root, publishes it, saves it to the
search index of the database's own backend and finds it, and finds a page of
the fixtures there too (the index ``update_index`` rebuilt after the copy).
Commits: MariaDB's FULLTEXT sees committed rows only.
"""

import os
import sys


def main() -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.realworld.wagtail_settings"
    import django

    django.setup()
    from wagtail.models import Page, Site
    from wagtail.search.backends import get_search_backend
    from wagtail.search.models import IndexEntry
    from wagtail.test.testapp.models import SimplePage

    home = Site.objects.get(is_default_site=True).root_page.specific
    page = home.add_child(instance=SimplePage(title="Quokka news", slug="quokka-news",
                                              content="All about the quokka."))
    page.save_revision().publish()
    page.refresh_from_db()
    assert page.live and Page.objects.live().filter(pk=page.pk).exists()
    get_search_backend("database").add(page)
    assert IndexEntry.objects.filter(object_id=str(page.pk)).exists()
    found = list(Page.objects.live().search("quokka", backend="database"))
    assert page.pk in [p.pk for p in found], found
    found = list(Page.objects.live().search("christmas", backend="database"))
    assert any(p.title == "Christmas" for p in found), found
    return 0


if __name__ == "__main__":
    sys.exit(main())
