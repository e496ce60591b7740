DROP TABLE password_resets;
DROP TABLE notification_deliveries;
DROP TABLE notifications;
