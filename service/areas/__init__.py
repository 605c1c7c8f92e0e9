"""Task areas (对比): the 纲要's areas and the tags of every passage and section."""
from service.areas.catalogue import AREA_BY_ID, AREAS, INDICATOR_TOPIC_AREAS, Area, area_named
from service.areas.tagging import AreaTags, area_tags, chunk_areas, pick_areas, score_areas, tag_sections

__all__ = ["AREAS", "AREA_BY_ID", "INDICATOR_TOPIC_AREAS", "Area", "AreaTags", "area_named", "area_tags", "chunk_areas",
           "pick_areas", "score_areas", "tag_sections"]
