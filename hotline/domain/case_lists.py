"""The case record's lists (issue 20): what a hotline reports about the situations its texters
describe, from the classifications US anti-trafficking hotlines publish.

Five lists live in the database (``case_options``) so that an admin can add to them; they start
with the entries below, seeded by migration 0018, whose codes never change (a code is what the
reports and earlier case records keep; only a label may be reworded, and every change is
audited, as for dispositions). The other fields are fixed here: an age group, a state, and
yes / no / unknown answers. ``docs/case_record.md`` lists every entry with its source.

Sources:

- Types: Polaris, *The Typology of Modern Slavery: Defining Sex and Labor Trafficking in the
  United States* (March 2017), its 25 types in the order it gives (by number of cases).
- Means of control and recruitment: the categories of Polaris's National Human Trafficking
  Hotline data reports (2015-2021), grouped as the U.S. Department of State's *Trafficking in
  Persons Report* describes force, fraud and coercion.
- Venues: the places those reports name where trafficking happens.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from hotline.domain.places import STATE_NAMES

# Every field may say "unknown": the advocate asked, or could not, and does not know.
UNKNOWN: Final = "unknown"


class CaseList(StrEnum):
    """The lists kept in ``case_options``, that an admin may extend."""

    KIND = "kind"
    TYPE = "type"
    VENUE = "venue"
    RECRUITMENT = "recruitment"
    CONTROL = "control"


# The lists a case record may hold more than one entry of (a case can have several types,
# venues, recruitments and means of control); a case has one kind.
MULTIPLE: Final = frozenset({CaseList.TYPE, CaseList.VENUE, CaseList.RECRUITMENT, CaseList.CONTROL})

# (code, label) in the order shown. The migration that seeds them (0018) keeps its own copy:
# what was seeded then does not change when this file does.
SEED: Final[dict[CaseList, tuple[tuple[str, str], ...]]] = {
    CaseList.KIND: (
        ("sex_trafficking", "Sex trafficking"),
        ("labor_trafficking", "Labor trafficking"),
        ("sex_and_labor_trafficking", "Sex and labor trafficking"),
        ("labor_exploitation", "Other exploitation: labor abuse"),
        ("domestic_violence", "Other exploitation: domestic violence"),
        ("other_exploitation", "Other exploitation"),
        ("not_trafficking", "Not trafficking"),
        ("unclear", "Unclear"),
    ),
    CaseList.TYPE: (
        ("escort_services", "Escort services"),
        ("illicit_massage", "Illicit massage, health and beauty"),
        ("outdoor_solicitation", "Outdoor solicitation"),
        ("residential", "Residential"),
        ("domestic_work", "Domestic work"),
        ("bars_strip_clubs", "Bars, strip clubs and cantinas"),
        ("pornography", "Pornography"),
        ("traveling_sales_crews", "Traveling sales crews"),
        ("restaurants", "Restaurants and food service"),
        ("peddling_begging", "Peddling and begging"),
        ("agriculture", "Agriculture and animal husbandry"),
        ("personal_sexual_servitude", "Personal sexual servitude"),
        ("health_beauty_services", "Health and beauty services"),
        ("construction", "Construction"),
        ("hospitality", "Hospitality"),
        ("landscaping", "Landscaping"),
        ("illicit_activities", "Illicit activities"),
        ("arts_entertainment", "Arts and entertainment"),
        ("commercial_cleaning", "Commercial cleaning services"),
        ("factories_manufacturing", "Factories and manufacturing"),
        ("remote_sexual_acts", "Remote interactive sexual acts"),
        ("carnivals", "Carnivals"),
        ("forestry_logging", "Forestry and logging"),
        ("health_care", "Health care"),
        ("recreational_facilities", "Recreational facilities"),
    ),
    CaseList.VENUE: (
        ("hotel_motel", "Hotel or motel"),
        ("private_residence", "Private residence"),
        ("online", "Online or app"),
        ("street", "Street"),
        ("truck_stop", "Truck stop"),
        ("massage_spa", "Massage or spa business"),
        ("bar_club", "Bar, club or cantina"),
        ("restaurant", "Restaurant"),
        ("farm", "Farm or ranch"),
        ("factory", "Factory or plant"),
        ("construction_site", "Construction site"),
        ("vehicle", "Vehicle"),
        ("other_venue", "Other"),
    ),
    CaseList.RECRUITMENT: (
        ("job_offer", "Job offer or advertisement"),
        ("intimate_partner", "Intimate partner or marriage proposition"),
        ("family", "Family member"),
        ("false_promises", "False promises or fraud"),
        ("smuggling", "Smuggling-related"),
        ("benefactor", "Posing as a benefactor"),
        ("online_contact", "Met online or on social media"),
        ("friend_peer", "Friend or peer"),
        ("other_recruitment", "Other"),
    ),
    CaseList.CONTROL: (
        ("document_confiscation", "Took or holds documents"),
        ("debt", "Debt bondage or owed money"),
        ("withholding_pay", "Withholding pay or earnings"),
        ("threats_to_family", "Threats to family"),
        ("threats_of_harm", "Threats of harm"),
        ("immigration_threats", "Threats to report to immigration or police"),
        ("isolation", "Isolation"),
        ("confinement", "Confinement or restricted movement"),
        ("monitoring", "Monitoring or surveillance"),
        ("physical_violence", "Physical violence"),
        ("sexual_abuse", "Sexual abuse"),
        ("emotional_abuse", "Emotional abuse or intimidation"),
        ("substances", "Induced or exploited substance use"),
        ("basic_needs", "Denied food, sleep or medical care"),
        ("excessive_hours", "Excessive working hours or quotas"),
        ("other_control", "Other"),
    ),
}


class AgeGroup(StrEnum):
    MINOR = "minor"
    ADULT = "adult"
    UNKNOWN = UNKNOWN


# How the fixed lists read, to advocates and in reports alike.
UNKNOWN_LABEL: Final = "Unknown"
AGE_LABELS: Final = {
    AgeGroup.MINOR: "Minor (under 18)",
    AgeGroup.ADULT: "Adult",
    AgeGroup.UNKNOWN: UNKNOWN_LABEL,
}


class Answer(StrEnum):
    """Whether the texter wanted contact with law enforcement, and whether a report was made."""

    YES = "yes"
    NO = "no"
    UNKNOWN = UNKNOWN


ANSWER_LABELS: Final = {Answer.YES: "Yes", Answer.NO: "No", Answer.UNKNOWN: UNKNOWN_LABEL}


# US states, the District of Columbia and the territories, by their USPS code; "outside" for a
# situation outside the United States.
STATES: Final[dict[str, str]] = {
    **STATE_NAMES,
    "AS": "American Samoa", "GU": "Guam", "MP": "Northern Mariana Islands",
    "VI": "U.S. Virgin Islands", "outside": "Outside the United States", UNKNOWN: "Unknown",
}  # fmt: skip
