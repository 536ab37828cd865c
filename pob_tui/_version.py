"""The version, in a module of its own: lower layers read it without importing the
package root (which offers the Textual app)."""

__version__ = "0.1.0"
