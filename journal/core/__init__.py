"""What every domain package builds on: the unit of work, the vault that seals and
opens encrypted columns, the acting person, domain errors, Markdown rendering and the
loading of the clinic's content files. No Flask here, nor in any domain package."""
