"""The filters every analysis accepts (location, device, device type, category, region)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """Database ids of the chain's own rows (regions by name); an empty tuple means no filter.

    Ids that do not exist in the chain simply match nothing, so a foreign chain's id yields an empty answer.
    """

    locations: tuple[int, ...] = ()
    devices: tuple[int, ...] = ()
    device_types: tuple[int, ...] = ()
    categories: tuple[int, ...] = ()
    regions: tuple[str, ...] = ()
    resources: tuple[int, ...] = ()
    resource_types: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not any(
            (self.locations, self.devices, self.device_types, self.categories, self.regions, self.resources, self.resource_types)
        )

    @property
    def touches_products(self) -> bool:
        return bool(self.categories)


NO_FILTERS = Filters()
