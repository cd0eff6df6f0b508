"""Local fakes of outside services, reached over real HTTP by the real client libraries."""
