DROP TABLE facade_secret;
