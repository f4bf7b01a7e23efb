package staff
