DROP TABLE certificate_requests;
