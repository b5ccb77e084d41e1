DROP TABLE console_action;
