-- A second database for the Prefect server beside straitwatch's own.
CREATE DATABASE prefect OWNER straitwatch;
