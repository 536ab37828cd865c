"""Areas that later issues fill. All areas have their own screens now."""
