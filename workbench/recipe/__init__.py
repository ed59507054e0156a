"""Study recipes: pydantic models, TOML loading with clear errors, hashing, the quick profile."""

from workbench.recipe.load import load_recipe, recipe_hash
from workbench.recipe.models import Recipe

__all__ = ["Recipe", "load_recipe", "recipe_hash"]
