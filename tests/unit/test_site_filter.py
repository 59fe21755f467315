"""A scope's query of site ids needs no condition at all only when it is every site."""

import datetime as dt

from sqlalchemy import select

from dashboard.data.figures import every_site, site_filter
from dashboard.data.models import District, Site, SiteMonthFigure
from dashboard.services.scope import Principal, visible_sites


def test_only_the_plain_query_of_every_site_is_every_site():
    assert every_site(select(Site.id))
    assert not every_site(select(Site.id).where(Site.district_id == 3))
    assert not every_site(select(Site.id).limit(10))
    assert not every_site(select(Site.id, Site.name))
    assert not every_site(select(Site.id).join(District, District.id == Site.district_id))
    assert not every_site(select(District.id))


def test_an_executives_scope_adds_no_condition_a_managers_does():
    today = dt.date(2026, 11, 23)
    executive = Principal(1, "executive", "Executive", "exec@example.com")
    manager = Principal(2, "district_manager", "District Manager", "dm@example.com")
    column = SiteMonthFigure.site_id
    assert str(site_filter(column, visible_sites(executive, today))) == "true"
    assert "IN" in str(site_filter(column, visible_sites(manager, today)))
