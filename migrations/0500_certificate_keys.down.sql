DROP TABLE certificate_pdf_signers;
DROP TABLE certificate_signing_keys;
