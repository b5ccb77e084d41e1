DROP TABLE tombstone;
