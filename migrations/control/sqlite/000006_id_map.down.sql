DROP TABLE id_map;
